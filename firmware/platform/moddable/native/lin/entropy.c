/*
 * Random bytes for the Helios meter firmware on the Moddable Linux host (`-p lin`):
 * the kernel's CSPRNG through getrandom(2), blocking until it is seeded.
 */
#include "xsmc.h"
#include <errno.h>
#include <sys/random.h>

void xs_helios_fill_random(xsMachine *the)
{
	int count = xsmcToInteger(xsArg(0));
	if ((count < 1) || (count > 256))
		xsRangeError("1 to 256 random bytes");
	xsmcSetArrayBuffer(xsResult, NULL, count);
	unsigned char *bytes = xsmcToArrayBuffer(xsResult);
	int done = 0;
	while (done < count) {
		ssize_t n = getrandom(bytes + done, count - done, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			xsUnknownError("getrandom failed");
		}
		done += (int)n;
	}
}
