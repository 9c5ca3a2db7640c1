/** Moddable `wifi` (modules/network/wifi): station mode connection with a status callback. */
declare module 'wifi' {
  type WiFiMessage = string;
  export default class WiFi {
    constructor(options: { ssid: string; password?: string; bssid?: ArrayBuffer }, callback?: (message: WiFiMessage) => void);
    close(): void;
    static connect(options?: { ssid: string; password?: string }): void;
    static disconnect(): void;
    static readonly connected: WiFiMessage;
    static readonly gotIP: WiFiMessage;
    static readonly lostIP: WiFiMessage;
    static readonly disconnected: WiFiMessage;
  }
}
