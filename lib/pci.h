/* SPDX-License-Identifier: Apache-2.0 */
/* PCI bus ids, the one parser for every place one is read (device tokens, the driver's GPU
 * directories and information files). */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Room for the longest canonical form, "ffffffff:ff:1f.7". */
#define NVH_PCI_BUS_ID_MAX 20

/* "[domain:]bus:device.function", hex digits of any case: domain 1 to 8 digits (0 when left
 * out; nvidia-smi prints 8), bus 1 or 2, device 1 or 2 (at most 0x1f), function 1 (at most
 * 7); nothing else, no spaces. s holds len bytes. The key sorts as (domain, bus, device,
 * function). Returns 0 or -EINVAL. */
int nvh_pci_parse(const char *s, size_t len, uint64_t *ret_key);

/* The canonical form of a key: lower case "%04x:%02x:%02x.%x", as the kernel writes it. */
void nvh_pci_format(uint64_t key, char *buf, size_t size);

/* Parse a NUL-terminated bus id and write its canonical form. Returns 0 or -EINVAL. */
int nvh_pci_normalize(const char *s, char *ret_buf, size_t size);
