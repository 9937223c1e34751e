/** What `minipod-oci --version`, `state` and `features` report. */
export const OCI_RUNTIME_VERSION = '0.1.0';
/** The runtime-spec version minipod-oci implements and writes in `state` and `spec`. */
export const OCI_SPEC_VERSION = '1.0.2';
