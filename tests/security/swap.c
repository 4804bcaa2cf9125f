/* SPDX-License-Identifier: Apache-2.0 */
/* swap A B [C D...]: exchange each pair of paths (renameat2 RENAME_EXCHANGE) as fast as it can
 * until SIGTERM, then print how many exchanges succeeded. The race partner of
 * tests/security/test_sec_race.sh and test_sec_hostsrc.sh, built with gcc at test time. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>

static volatile sig_atomic_t stop;

static void
on_term(int s)
{
        (void)s;
        stop = 1;
}

int
main(int argc, char **argv)
{
        unsigned long n = 0;

        if (argc < 3 || argc % 2 == 0)
                return 2;
        signal(SIGTERM, on_term);
        while (!stop)
                for (int i = 1; i + 1 < argc; i += 2)
                        n += renameat2(AT_FDCWD, argv[i], AT_FDCWD, argv[i + 1], RENAME_EXCHANGE) ==
                             0;
        printf("%lu\n", n);
        return 0;
}
