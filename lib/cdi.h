/* SPDX-License-Identifier: Apache-2.0 */
/* CDI (Container Device Interface) glue: how nvhook's CDI devices reach the hook.
 *
 * A generated spec gives every device one createRuntime hook entry running nvhook with
 * "--cdi-device <token>" arguments. Hook entries come from the engine (the node's CDI spec,
 * or nvhook-runtime), never from the image, so the tokens are trusted like device-list mounts.
 * CDI consumers append one entry per requested device, so a container with two devices runs
 * nvhook twice: every run reads all the entries from config.json, and only the run whose own
 * first token is the first token of the container's entries (the lead) injects; the others
 * exit 0. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define NVH_CDI_KIND "nvidia.com/gpu"
#define NVH_CDI_ARG "--cdi-device"

/* Tokens of every "--cdi-device X" argument of nvhook's hook entries (path whose last
 * component is "nvhook") in config.json's hooks.prestart and hooks.createRuntime, in order,
 * deduplicated, NULL-terminated (empty when none). buf is config.json, trusted for nothing:
 * an unparsable buffer or wrong types yield an empty vector (the spec parser reports those). */
int nvh_cdi_hook_devices(const char *buf, size_t len, char ***ret, struct nvh_err *err);

/* Whether hook_path names nvhook: last component "nvhook". */
bool nvh_cdi_is_nvhook(const char *hook_path);

/* Whether name is a valid CDI device name (letters, digits, '_', '-', '.', ':'; starting with
 * a letter or a digit). */
bool nvh_cdi_name_ok(const char *name);

/* Replace path with buf atomically: a temporary file in path's directory (O_CLOEXEC, mode),
 * written, synced and renamed over path. No residue on failure. */
int nvh_cdi_replace_file(const char *path, const char *buf, size_t len, unsigned mode,
                         struct nvh_err *err);
