/* SPDX-License-Identifier: Apache-2.0 */
/* ELF facts of an image or driver file (lib/elf.c), from memory. */
#include <stdint.h>

#include "elf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct nvh_err err = {0};
        struct nvh_elf_info info = {0};

        if (nvh_elf_read_mem(data, size, "fuzz", &info, &err) == 0)
                nvh_elf_info_clear(&info);
        return 0;
}
