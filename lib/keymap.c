/* Key dictionary: key text -> dense id, open addressing on XXH3 hashes. */
#include <stdlib.h>

#include <xxhash.h>

#include "internal.h"

static int grow(rl_keymap *m)
{
    uint32_t cap = m->cap ? m->cap * 2 : 64;
    uint32_t *slots = calloc(cap, sizeof *slots);
    uint64_t *hashes = calloc(cap, sizeof *hashes);
    if (!slots || !hashes) {
        free(slots);
        free(hashes);
        return RUNLOG_ENOMEM;
    }
    for (uint32_t i = 0; i < m->cap; i++) {
        if (!m->slots[i])
            continue;
        uint32_t j = (uint32_t)m->hashes[i] & (cap - 1);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = m->slots[i];
        hashes[j] = m->hashes[i];
    }
    free(m->slots);
    free(m->hashes);
    m->slots = slots;
    m->hashes = hashes;
    m->cap = cap;
    return 0;
}

static uint32_t probe(const rl_keymap *m, const char *key, size_t len, uint64_t h, int *found)
{
    uint32_t j = (uint32_t)h & (m->cap - 1);
    while (m->slots[j]) {
        if (m->hashes[j] == h) {
            uint32_t klen;
            const char *k = rl_keymap_str(m, m->slots[j] - 1, &klen);
            if (klen == len && memcmp(k, key, len) == 0) {
                *found = 1;
                return j;
            }
        }
        j = (j + 1) & (m->cap - 1);
    }
    *found = 0;
    return j;
}

int rl_keymap_find(const rl_keymap *m, const char *key, size_t len, uint32_t *id)
{
    if (!m->cap)
        return RUNLOG_ENOTFOUND;
    int found;
    uint32_t j = probe(m, key, len, XXH3_64bits(key, len), &found);
    if (!found)
        return RUNLOG_ENOTFOUND;
    *id = m->slots[j] - 1;
    return 0;
}

int rl_keymap_intern(rl_keymap *m, const char *key, size_t len, uint32_t *id)
{
    uint64_t h = XXH3_64bits(key, len);
    int found;
    if (m->cap) {
        uint32_t j = probe(m, key, len, h, &found);
        if (found) {
            *id = m->slots[j] - 1;
            return 0;
        }
    }
    if (len > RUNLOG_MAX_KEY)
        return rl_fail(RUNLOG_EINVAL, "key of %zu bytes is over the limit of %u bytes", len,
                       RUNLOG_MAX_KEY);
    if (!rl_utf8_valid((const uint8_t *)key, len))
        return rl_fail(RUNLOG_EINVAL, "key is not valid UTF-8");
    if (m->count >= RL_MAX_KEYS)
        return rl_fail(RUNLOG_ETOOLARGE, "more than %u distinct keys", RL_MAX_KEYS);
    if ((m->count + 1) * 2 > m->cap && grow(m))
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    uint32_t c = m->count / RL_KEY_CHUNK, k = m->count % RL_KEY_CHUNK;
    if (!m->chunks[c]) {
        m->chunks[c] = calloc(RL_KEY_CHUNK, sizeof(char *));
        m->lens[c] = calloc(RL_KEY_CHUNK, sizeof(uint32_t));
        if (!m->chunks[c] || !m->lens[c])
            return rl_fail(RUNLOG_ENOMEM, "out of memory");
    }
    char *s = malloc(len + 1);
    if (!s)
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    memcpy(s, key, len);
    s[len] = 0;
    m->chunks[c][k] = s;
    m->lens[c][k] = (uint32_t)len;
    uint32_t j = probe(m, key, len, h, &found);
    m->slots[j] = m->count + 1;
    m->hashes[j] = h;
    *id = m->count++;
    return 0;
}

void rl_keymap_free(rl_keymap *m)
{
    for (uint32_t i = 0; i < m->count; i++)
        free(m->chunks[i / RL_KEY_CHUNK][i % RL_KEY_CHUNK]);
    for (size_t c = 0; c < RL_MAX_KEYS / RL_KEY_CHUNK; c++) {
        free(m->chunks[c]);
        free(m->lens[c]);
    }
    free(m->slots);
    free(m->hashes);
    memset(m, 0, sizeof *m);
}

static int hash_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

size_t rl_hash_set(uint64_t *h, size_t n)
{
    if (n > 1)
        qsort(h, n, sizeof *h, hash_cmp);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || h[m - 1] != h[i])
            h[m++] = h[i];
    return m;
}
