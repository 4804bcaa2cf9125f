/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by lib/gpus.c (procfs parsing) and lib/gpus_find.c (device tokens); not part
 * of the module's interface. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A decimal number without sign or spaces, at most max. */
bool nvh_gpus_parse_uint(const char *s, unsigned long max, unsigned long *ret);

/* A PCI bus id in any accepted form as one comparable key; -EINVAL when malformed. */
int nvh_gpus_bus_id_key(const char *s, uint64_t *ret_key);

/* The canonical lower-case "dddd:bb:dd.f" of a key. */
void nvh_gpus_key_to_bus_id(uint64_t key, char *buf, size_t size);
