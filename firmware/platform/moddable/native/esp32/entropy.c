/*
 * Random bytes from the ESP32's hardware RNG for the Helios meter firmware.
 *
 * esp_fill_random() is a true RNG only while an RF subsystem (Wi-Fi, Bluetooth)
 * or the bootloader's entropy source is running (ESP-IDF, "Random Number
 * Generation"). The meter makes its key at first boot, before Wi-Fi is up: then
 * the caller passes radioOff = true and the call is bracketed by
 * bootloader_random_enable()/disable(), which feed the RNG from SAR ADC noise as
 * the bootloader does. That source must not run while Wi-Fi uses the RF
 * subsystem, so once Wi-Fi is started the caller passes false.
 *
 * fillRandom(count, radioOff) -> ArrayBuffer of count bytes (1…256)
 */
#include "xsmc.h"
#include "esp_random.h"
#include "bootloader_random.h"

void xs_helios_fill_random(xsMachine *the)
{
	int count = xsmcToInteger(xsArg(0));
	if ((count < 1) || (count > 256))
		xsRangeError("1 to 256 random bytes");
	int radioOff = (xsmcArgc > 1) && xsmcToBoolean(xsArg(1));
	xsmcSetArrayBuffer(xsResult, NULL, count);
	if (radioOff)
		bootloader_random_enable();
	esp_fill_random(xsmcToArrayBuffer(xsResult), count);
	if (radioOff)
		bootloader_random_disable();
}
