/** Moddable `securesocket` (modules/crypt/ssl): a TLS socket the MQTT client can use as its Socket. */
declare module 'securesocket' {
  const SecureSocket: unknown;
  export default SecureSocket;
}
