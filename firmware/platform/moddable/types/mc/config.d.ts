/**
 * `mc/config`: the manifest's "config" object, frozen, with any key=value given on
 * the mcconfig command line (values from the command line are strings).
 */
declare module 'mc/config' {
  const config: Readonly<Record<string, unknown>>;
  export default config;
}
