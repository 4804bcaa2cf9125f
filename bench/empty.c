/* SPDX-License-Identifier: Apache-2.0 */
/* The cheapest possible hook: exec of an empty static binary. */
int
main(void)
{
        return 0;
}
