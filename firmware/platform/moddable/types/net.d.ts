/** Moddable `net` (modules/network/net): the device's network state. */
declare module 'net' {
  const Net: {
    get(property: 'IP' | 'MAC' | 'SSID' | 'RSSI', iface?: 'station' | 'ap'): string | number | undefined;
  };
  export default Net;
}
