/* SPDX-License-Identifier: Apache-2.0 */
/* The NVIDIA_REQUIRE_* constraint language, as libnvidia-container defines it:
 *
 *   expr  = group *(SPACE group)      any group may hold (OR)
 *   group = term *("," term)          every term of a group must hold (AND)
 *   term  = key op value
 *   key   = "cuda" | "driver" | "arch" (versions) | "brand" (a name), case-insensitive
 *   op    = "=" | "!=" | "<" | "<=" | ">" | ">="  (brand: "=" and "!=" only)
 *
 * so "cuda>=11.0 brand=tesla,driver>=418,driver<419" reads
 * cuda>=11.0 OR (brand=tesla AND driver>=418 AND driver<419). Versions compare numerically,
 * component by component, missing components count as 0 ("11" = "11.0", "580.159.04" >
 * "418.81"); brands compare case-insensitively. Empty groups and terms are skipped, so an
 * empty expression holds. */
#pragma once

#include <stddef.h>

#include "err.h"

/* Longest expression accepted (-E2BIG beyond). */
#define NVH_REQUIRE_EXPR_MAX (16u << 10)
/* Most NVIDIA_REQUIRE_* variables one container may set (-E2BIG beyond): each is validated
 * and evaluated per GPU. */
#define NVH_REQUIRE_MAX_VARS 128u
/* Size of the buffer handed to a fact callback. */
#define NVH_REQUIRE_FACT_MAX 128

/* Fetch the value of a fact ("cuda", "driver", "arch", "brand"; always lower case) into
 * ret_value (NUL-terminated, at most size bytes). Called at most once per key and per
 * evaluation, and only for keys a term that is evaluated needs, so an expensive fact (the
 * CUDA version needs the driver library) is fetched only when asked for. Returns 0 or a
 * negative errno with err set; an error aborts the evaluation.
 * "arch" and "brand" are per GPU: libnvidia-container evaluates the expression once per
 * selected GPU, and callers do the same with a callback answering for that GPU. */
typedef int (*nvh_require_fact_fn)(void *userdata, const char *key, char *ret_value, size_t size,
                                   struct nvh_err *err);

/* Syntax check of a whole expression: 0, or -EINVAL naming the malformed term. */
int nvh_require_validate(const char *expr, struct nvh_err *err);

/* Validate, then evaluate. Returns 1 when satisfied; 0 when not, with err set to -EPERM and
 * "unsatisfied condition: <term> (<key> is <value>)" for the first failing term of each
 * group ("; " between groups), so callers may return err->code; < 0 on a malformed expression
 * or a failing fact callback. */
int nvh_require_eval(const char *expr, nvh_require_fact_fn fact, void *userdata,
                     struct nvh_err *err);

/* Compare two version strings numerically; *ret_cmp is -1, 0 or 1. -EINVAL when either is
 * not a version (digits separated by single dots, at most 8 components of at most 18 digits). */
int nvh_require_version_cmp(const char *a, const char *b, int *ret_cmp);
