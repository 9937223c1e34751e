/**
 * libseccomp, the one native library besides libc: src/seccomp/compile.ts turns a profile into
 * a BPF program with it (in the daemon; the helper only loads the bytes with seccomp(2) through
 * the Syscall interface). Kept behind src/syscall like every other native call.
 */
export { loadLibSeccomp as libseccomp, type LibSeccomp } from '../../native-bindings/libseccomp.js';
