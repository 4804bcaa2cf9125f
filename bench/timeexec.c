/* SPDX-License-Identifier: Apache-2.0 */
/* timeexec STDIN_FILE CMD [ARG...]: run CMD with STDIN_FILE on its standard input, the way a
 * runtime runs a hook, and print "<wall ns> <exit status> <peak RSS KiB>" of that one run.
 * The clock covers fork, exec, the whole run and the reaping. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
        struct timespec t0, t1;
        struct rusage ru;
        int status = 0, in_fd;
        pid_t pid;

        if (argc < 3) {
                fprintf(stderr, "usage: timeexec STDIN_FILE CMD [ARG...]\n");
                return 2;
        }
        in_fd = open(argv[1], O_RDONLY | O_CLOEXEC);
        if (in_fd < 0) {
                perror(argv[1]);
                return 2;
        }
        clock_gettime(CLOCK_MONOTONIC, &t0);
        pid = fork();
        if (pid == 0) {
                dup2(in_fd, 0);
                execv(argv[2], argv + 2);
                _exit(127);
        }
        if (pid < 0 || wait4(pid, &status, 0, &ru) < 0) {
                perror("fork/wait");
                return 2;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("%lld %d %ld\n",
               (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec),
               WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), ru.ru_maxrss);
        return 0;
}
