/* SPDX-License-Identifier: Apache-2.0 */
#include "require.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "macros.h"

/* How much of a term or value an error message quotes. */
#define QUOTE_MAX 96
#define VER_MAX 8

enum key { KEY_CUDA, KEY_DRIVER, KEY_ARCH, KEY_BRAND, KEY_COUNT };

static const char *const key_names[KEY_COUNT] = {"cuda", "driver", "arch", "brand"};

enum op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

static const char *const op_names[] = {"=", "!=", "<", "<=", ">", ">="};

struct term {
        const char *text; /* the whole term, for messages */
        size_t text_len;
        enum key key;
        enum op op;
        const char *val;
        size_t val_len;
};

struct version {
        uint64_t c[VER_MAX];
        unsigned n;
};

static bool
is_sep(char c)
{
        return c == ' ' || c == '\t';
}

static bool
is_op_char(char c)
{
        return c == '<' || c == '>' || c == '=' || c == '!';
}

static int
parse_version(const char *s, size_t len, struct version *v)
{
        size_t i = 0;

        v->n = 0;
        if (len == 0)
                return -EINVAL;
        while (i < len) {
                uint64_t n = 0;
                size_t digits = 0;

                if (v->n == VER_MAX)
                        return -EINVAL;
                while (i < len && s[i] >= '0' && s[i] <= '9') {
                        if (++digits > 18)
                                return -EINVAL;
                        n = n * 10 + (uint64_t)(s[i] - '0');
                        i++;
                }
                if (digits == 0)
                        return -EINVAL;
                v->c[v->n++] = n;
                if (i < len) {
                        if (s[i] != '.' || i + 1 == len)
                                return -EINVAL;
                        i++;
                }
        }
        return 0;
}

static int
version_cmp(const struct version *a, const struct version *b)
{
        unsigned n = a->n > b->n ? a->n : b->n;

        for (unsigned i = 0; i < n; i++) {
                uint64_t x = i < a->n ? a->c[i] : 0, y = i < b->n ? b->c[i] : 0;

                if (x != y)
                        return x < y ? -1 : 1;
        }
        return 0;
}

int
nvh_require_version_cmp(const char *a, const char *b, int *ret_cmp)
{
        struct version va, vb;

        if (parse_version(a, strlen(a), &va) < 0 || parse_version(b, strlen(b), &vb) < 0)
                return -EINVAL;
        *ret_cmp = version_cmp(&va, &vb);
        return 0;
}

static bool
is_brand_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
}

static int
parse_term(const char *t, size_t len, struct term *ret, struct nvh_err *err)
{
        struct term term = {.text = t, .text_len = len};
        size_t klen = 0, olen = 0, i;
        int q = len > QUOTE_MAX ? QUOTE_MAX : (int)len;
        bool found = false;

        while (klen < len && !is_op_char(t[klen]))
                klen++;
        while (klen + olen < len && is_op_char(t[klen + olen]))
                olen++;
        if (klen == 0)
                return nvh_err_set(err, -EINVAL, "missing key in requirement '%.*s'", q, t);
        if (olen == 0)
                return nvh_err_set(err, -EINVAL, "missing operator in requirement '%.*s'", q, t);
        for (i = 0; i < KEY_COUNT; i++)
                if (strlen(key_names[i]) == klen && strncasecmp(key_names[i], t, klen) == 0) {
                        term.key = (enum key)i;
                        found = true;
                        break;
                }
        if (!found)
                return nvh_err_set(err, -EINVAL, "unknown key '%.*s' in requirement '%.*s'",
                                   (int)(klen > QUOTE_MAX ? QUOTE_MAX : klen), t, q, t);
        found = false;
        for (i = 0; i < ARRAY_SIZE(op_names); i++)
                if (strlen(op_names[i]) == olen && memcmp(op_names[i], t + klen, olen) == 0) {
                        term.op = (enum op)i;
                        found = true;
                        break;
                }
        if (!found)
                return nvh_err_set(err, -EINVAL, "invalid operator '%.*s' in requirement '%.*s'",
                                   (int)(olen > 8 ? 8 : olen), t + klen, q, t);
        term.val = t + klen + olen;
        term.val_len = len - klen - olen;
        if (term.val_len == 0)
                return nvh_err_set(err, -EINVAL, "missing value in requirement '%.*s'", q, t);
        if (term.key == KEY_BRAND) {
                if (term.op != OP_EQ && term.op != OP_NE)
                        return nvh_err_set(
                            err, -EINVAL,
                            "operator '%s' does not apply to brand in requirement '%.*s'",
                            op_names[term.op], q, t);
                for (i = 0; i < term.val_len; i++)
                        if (!is_brand_char(term.val[i]))
                                return nvh_err_set(err, -EINVAL,
                                                   "invalid brand in requirement '%.*s'", q, t);
        } else {
                struct version v;

                if (parse_version(term.val, term.val_len, &v) < 0)
                        return nvh_err_set(err, -EINVAL, "invalid version in requirement '%.*s'", q,
                                           t);
        }
        *ret = term;
        return 0;
}

/* Walk the expression: calls visit(term) for each term, in order, with the group index.
 * visit returns < 0 to abort (error), 0 to continue, 1 to skip to the next group, 2 to stop. */
typedef int (*visit_fn)(void *ctx, unsigned group, const struct term *t, struct nvh_err *err);

static int
walk(const char *expr, visit_fn visit, void *ctx, struct nvh_err *err)
{
        const char *p = expr;
        unsigned group = 0;
        size_t len = strnlen(expr, NVH_REQUIRE_EXPR_MAX + 1);

        if (len > NVH_REQUIRE_EXPR_MAX)
                return nvh_err_set(err, -E2BIG, "requirement longer than %u bytes",
                                   NVH_REQUIRE_EXPR_MAX);
        while (*p) {
                size_t glen;
                const char *g;
                bool skip = false;

                while (is_sep(*p))
                        p++;
                g = p;
                while (*p && !is_sep(*p))
                        p++;
                glen = (size_t)(p - g);
                if (glen == 0)
                        break;
                for (size_t off = 0; off < glen;) {
                        size_t tlen = 0;
                        struct term t;
                        int r;

                        while (off + tlen < glen && g[off + tlen] != ',')
                                tlen++;
                        if (tlen > 0 && !skip) {
                                r = parse_term(g + off, tlen, &t, err);
                                if (r < 0)
                                        return r;
                                r = visit(ctx, group, &t, err);
                                if (r < 0 || r == 2)
                                        return r;
                                if (r == 1)
                                        skip = true;
                        }
                        off += tlen + 1;
                }
                group++;
        }
        return 0;
}

static int
visit_nothing(void *ctx, unsigned group, const struct term *t, struct nvh_err *err)
{
        return 0;
}

int
nvh_require_validate(const char *expr, struct nvh_err *err)
{
        if (!expr)
                return nvh_err_set(err, -EINVAL, "missing requirement");
        return walk(expr, visit_nothing, NULL, err);
}

struct eval_ctx {
        nvh_require_fact_fn fact;
        void *userdata;
        bool have[KEY_COUNT];
        char value[KEY_COUNT][NVH_REQUIRE_FACT_MAX];
        unsigned group;    /* group being evaluated */
        bool group_failed; /* a term of it failed */
        bool satisfied;
        char failed[NVH_ERR_MSG_MAX - 32];
        size_t failed_len;
};

static int
get_fact(struct eval_ctx *c, enum key key, const char **ret, struct nvh_err *err)
{
        if (!c->have[key]) {
                char *v = c->value[key];
                int r;

                memset(v, 0, NVH_REQUIRE_FACT_MAX);
                r = c->fact(c->userdata, key_names[key], v, NVH_REQUIRE_FACT_MAX, err);
                if (r < 0)
                        return r;
                if (strnlen(v, NVH_REQUIRE_FACT_MAX) == NVH_REQUIRE_FACT_MAX)
                        return nvh_err_set(err, -EINVAL, "%s: value too long", key_names[key]);
                c->have[key] = true;
        }
        *ret = c->value[key];
        return 0;
}

static void
note_failure(struct eval_ctx *c, const struct term *t, const char *have)
{
        size_t room = sizeof(c->failed) - c->failed_len;
        int q = t->text_len > QUOTE_MAX ? QUOTE_MAX : (int)t->text_len;
        int n;

        if (room <= 1)
                return;
        n = snprintf(c->failed + c->failed_len, room, "%s%.*s (%s is %.64s)",
                     c->failed_len ? "; " : "", q, t->text, key_names[t->key], have);
        if (n > 0)
                c->failed_len += (size_t)n < room ? (size_t)n : room - 1;
}

static int
finish_group(struct eval_ctx *c)
{
        if (!c->group_failed) {
                c->satisfied = true;
                return 2;
        }
        return 0;
}

static int
visit_eval(void *ctx, unsigned group, const struct term *t, struct nvh_err *err)
{
        struct eval_ctx *c = ctx;
        const char *have = NULL;
        int cmp, r;
        bool ok;

        if (group != c->group) {
                /* The previous group ended: it held if no term failed. */
                if (finish_group(c) == 2)
                        return 2;
                c->group = group;
                c->group_failed = false;
        }
        r = get_fact(c, t->key, &have, err);
        if (r < 0)
                return r;
        if (t->key == KEY_BRAND) {
                cmp = (strlen(have) == t->val_len && strncasecmp(have, t->val, t->val_len) == 0)
                          ? 0
                          : 1;
        } else {
                struct version hv, tv;

                if (parse_version(have, strlen(have), &hv) < 0)
                        return nvh_err_set(err, -EINVAL, "%s is not a version: '%.64s'",
                                           key_names[t->key], have);
                (void)parse_version(t->val, t->val_len, &tv);
                cmp = version_cmp(&hv, &tv);
        }
        switch (t->op) {
        case OP_EQ:
                ok = cmp == 0;
                break;
        case OP_NE:
                ok = cmp != 0;
                break;
        case OP_LT:
                ok = cmp < 0;
                break;
        case OP_LE:
                ok = cmp <= 0;
                break;
        case OP_GT:
                ok = cmp > 0;
                break;
        default:
                ok = cmp >= 0;
                break;
        }
        if (ok)
                return 0;
        c->group_failed = true;
        note_failure(c, t, have);
        return 1;
}

/* Trust boundary: expr comes from the image; it is validated whole before any fact is asked
 * for, and bounded in length. */
int
nvh_require_eval(const char *expr, nvh_require_fact_fn fact, void *userdata, struct nvh_err *err)
{
        struct eval_ctx c = {.fact = fact, .userdata = userdata};
        int r;

        r = nvh_require_validate(expr, err);
        if (r < 0)
                return r;
        if (!fact)
                return nvh_err_set(err, -EINVAL, "missing fact callback");
        r = walk(expr, visit_eval, &c, err);
        if (r < 0)
                return r;
        /* No term at all holds; otherwise the last group decides if none before did. */
        if (c.satisfied || !c.group_failed)
                return 1;
        nvh_err_set(err, -EPERM, "unsatisfied condition: %s", c.failed);
        return 0;
}
