#ifndef SIGNET_CFUZZDRIVER_H
#define SIGNET_CFUZZDRIVER_H

/// Runs libFuzzer (LLVMFuzzerRunDriver) on the harness's LLVMFuzzerTestOneInput. SwiftPM links a
/// Linux executable with `--defsym main=MODULE_main`, so libFuzzer's own `main` is never linked:
/// each harness defines MODULE_main (with @_cdecl) and calls this.
int signet_fuzz_main(int argc, char **argv);

#endif
