/* SPDX-License-Identifier: Apache-2.0 */
/* nvhook setup: register nvhook with the container engines of this host. */
#pragma once

#include <stddef.h>

#include "nvhook.h"

/* A unified diff (3 lines of context) from old to new, labelled with path; "" when equal.
 * Either text may be empty (file created or removed). malloc'ed; NULL on ENOMEM. */
char *nvh_setup_diff(const char *path, const char *old_text, const char *new_text);

int nvh_cmd_setup(struct nvh_cli *cli);
