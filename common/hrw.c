#include "common/hrw.h"

#include "common/assert.h"
#include "common/limits.h"

#include <errno.h>
#include <stdio.h>
#include <xxhash.h>

uint64_t
ais_hrw_digest(const void *data, size_t len)
{
    return XXH64(data, len, AIS_HRW_SEED);
}

static inline uint64_t
rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t
ais_hrw_mix(uint64_t x)
{
    uint64_t z = x + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z = (z ^ (z >> 31)) + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z = (z ^ (z >> 31)) * 5;
    return rotl64(z, 7) * 9;
}

size_t
ais_hrw_pick(const uint64_t *node_digests, size_t n, uint64_t digest)
{
    AIS_ASSERT(n > 0);
    size_t best = 0;
    uint64_t best_score = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t s = ais_hrw_mix(node_digests[i] ^ digest);
        if (i == 0 || s >= best_score) {
            best = i;
            best_score = s;
        }
    }
    return best;
}

size_t
ais_hrw_rank(const uint64_t *node_digests, size_t n, uint64_t digest, size_t k, uint32_t *out)
{
    uint64_t score[AIS_HRW_RANK_MAX];
    size_t len = 0;
    AIS_ASSERT(k <= AIS_HRW_RANK_MAX);
    k = k < n ? k : n;
    /* One pass keeping the k best in order (insertion): later indices win ties, as
     * ais_hrw_pick does, because an equal score is inserted before the ones it ties. */
    for (size_t i = 0; i < n && k > 0; i++) {
        uint64_t s = ais_hrw_mix(node_digests[i] ^ digest);
        if (len == k && s < score[len - 1]) {
            continue;
        }
        size_t j = len < k ? len++ : k - 1;
        while (j > 0 && score[j - 1] <= s) {
            score[j] = score[j - 1];
            out[j] = out[j - 1];
            j--;
        }
        score[j] = s;
        out[j] = (uint32_t)i;
    }
    return k;
}

int
ais_obj_digest(const char *provider, const char *ns, const char *bck, const char *obj,
               uint64_t *out)
{
    char uname[AIS_OBJNAME_BYTES_MAX + AIS_BCKNAME_BYTES_MAX + AIS_NS_BYTES_MAX + 16];
    int n = ais_uname(uname, sizeof(uname), provider, ns, bck, obj);
    if (n < 0) {
        return n;
    }
    *out = ais_hrw_digest(uname, (size_t)n);
    return 0;
}

int
ais_uname(char *out, size_t cap, const char *provider, const char *ns, const char *bck,
          const char *obj)
{
    int n;
    if (ns[0] == '\0') {
        n = snprintf(out, cap, "%s/@#/%s/%s", provider, bck, obj);
    } else {
        n = snprintf(out, cap, "%s/%s/%s/%s", provider, ns, bck, obj);
    }
    if (n < 0 || (size_t)n >= cap) {
        return -ENAMETOOLONG;
    }
    return n;
}
