/* SPDX-License-Identifier: Apache-2.0 */
/* jansson helpers shared by the JSON parsers: strict loading and one form of type error. */
#pragma once

#include <stddef.h>

#include <jansson.h>

#include "err.h"
#include "macros.h"

/* jansson ships json_decrefp() (NULL-safe) for exactly this. */
#define _cleanup_json_ _cleanup_(json_decrefp)

/* Set err to "<what>: '<field>' is not <type>: <v described>" (EINVAL) and return -EINVAL.
 * Strings are quoted and cut at 64 bytes; containers are named, not printed. */
int nvh_json_type_error(const char *what, const char *field, const char *type, const json_t *v,
                        struct nvh_err *err);

/* Parse buf as a JSON document whose top level is an object. Refuses input over max_size
 * (E2BIG), malformed JSON and duplicate keys (EINVAL), and any other top-level type (EINVAL).
 * what names the input in messages. On success *ret holds a new reference. */
int nvh_json_load_object(const char *buf, size_t len, size_t max_size, const char *what,
                         json_t **ret, struct nvh_err *err);
