#include <stddef.h>
#include <stdint.h>
#include "CFuzzDriver.h"

// Both come from the link: libFuzzer (-sanitize=fuzzer) and the harness (@_cdecl).
extern int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
extern int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int signet_fuzz_main(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}
