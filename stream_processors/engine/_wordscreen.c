/* The word screen (wordscreen.py): whether any signal can be viable in a document's words, in one pass.
 *
 * Built by scripts/build-native beside the mypyc modules; without it the engine runs its Python passes, with
 * the same outputs. The tables come from wordscreen.py, which documents them; this file only reads them.
 * Per document: the words of the padded view (" w1 w2 ... ") are hashed byte by byte (FNV-1a), the running
 * hash looked up in the prefix table at the prefix lengths some atom needs, the word's hash in the word table,
 * and the last two and three words' ids in the pair and triple tables; each hit marks its atoms with the
 * document's stamp and the sentence it is in (when the caller knows the sentences).
 * Then each marked atom's viability requirements are tested: every clause has a marked atom, and those a
 * sentence must hold (a signal's phrases and mentions) have theirs in one sentence. No Python
 * object is made per word or per hit: the cost follows the words, not the rules (BENCHMARKS.md). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define FNV_OFFSET 1469598103934665603ULL
#define FNV_PRIME 1099511628211ULL

/* Open-addressing tables, a power of two slots each, at most half full; a slot is one cache line's part,
 * with what a hit needs, so a lookup costs one miss: with 100,000 rules the tables are megabytes and the
 * engine's other work evicts them between documents. Word and prefix slots hold the 64-bit hash, not the
 * string: two strings of the table with one hash are refused when it is built, and a document's word that
 * shares a hash with a table word only marks atoms that are not there (the screen stays a superset). */
typedef struct {
    uint64_t hash;
    int32_t id; /* the word's id (its row of uni_start), or -1: empty */
    uint32_t flags;
    /* Bit (hash >> 58) of every word that follows this one in some pair or triple: with 100,000 rules nearly
     * every word is the first of some pair and the second of another, and this turns away most adjacent
     * words from the slot already read, before the filter and the pair table are (a miss each). */
    uint64_t follows;
    int32_t first, unused; /* its first atom (the only one, mostly: no read of uni_atoms then) */
} WordSlot;
enum { OWN = 1, PAIR_FIRST = 2, PAIR_SECOND = 4, TRIPLE_FIRST = 8, TRIPLE_SECOND = 16, TRIPLE_THIRD = 32 };

typedef struct {
    uint64_t key;      /* first word id << 32 | second */
    int32_t start, end; /* its atoms: bi_atoms[start:end]; end -1: empty */
    int32_t first, unused; /* bi_atoms[start] (the only one, mostly) */
} PairSlot;

typedef struct {
    uint64_t key; /* first word id << 32 | second */
    int32_t third, start, end, first; /* first: tri_atoms[start] */
} TripleSlot;

typedef struct {
    uint64_t hash;
    int32_t start, end; /* pre_atoms[start:end]; end -1: empty */
} PrefixSlot;

typedef struct {
    uint32_t stamp;      /* the last document that marked the atom */
    uint32_t sentences;  /* bit k: marked in sentence k of that document (k >= 31: bit 31) */
    int32_t begin, end;  /* the requirements it triggers: trig[begin:end] (a copy of trig_start's) */
} AtomMark;

typedef struct {
    PyObject_HEAD
    Py_buffer uni_start, uni_atoms, bi_atoms, tri_atoms, pre_atoms;
    /* atom a -> the requirements it triggers, read in one sweep (wordscreen.py writes them):
     * trig[trig_start[a]:trig_start[a + 1]] = for each requirement, its number of clauses, its group (the
     * signals it is the requirement of: groups[group]), then for each clause (its number of atoms << 1 | its
     * kind) and its atoms. Kind 1: a sentence must hold it with the other clauses of kind 1; kind 0: the
     * document. */
    Py_buffer trig_start, trig;
    PyObject *groups; /* tuple: group -> tuple of signal names */
    uint32_t *group_stamp; /* the last held() call that found a group held */
    uint32_t held_calls;
    WordSlot *words;
    PairSlot *pairs;
    TripleSlot *triples;
    PrefixSlot *prefixes;
    Py_ssize_t word_mask, pair_mask, triple_mask, prefix_mask, ntriples;
    /* One bit per (hash of a) pair or triple of the tables, at most an eighth of them set: small enough to stay
     * in cache, it turns away most of a document's word pairs before their slot is read (a miss, at 100,000
     * rules). */
    uint64_t *filter;
    int filter_shift;
    uint64_t prefix_lengths; /* bit L: some prefix is L bytes long (L < 64) */
    Py_ssize_t natoms;
    AtomMark *marks;
    int32_t *marked; /* the atoms marked in this document, in order */
    Py_ssize_t nmarked;
    uint32_t stamp;
    /* A Bloom filter of this document's marked atoms (512 bits, two probes), in L1: most of the atoms a
     * requirement asks for are not there, and it says so without reading their marks (a miss each). */
    uint64_t bloom[8];
    /* Atom -> 1 when it alone makes some signal viable (a requirement of one clause, its own): reading stops
     * at the first such atom (most documents of a pack of "any of these phrases" stop at their first hit). */
    uint8_t *alone;
    int stop_early, done, read;
    int ready; /* 1 once __init__ has built every table: until then (never called, or it failed) no call reads */
} WordScreen;

static inline const int32_t *I32(Py_buffer *b) { return (const int32_t *)b->buf; }
static inline Py_ssize_t N32(Py_buffer *b) { return b->len / (Py_ssize_t)sizeof(int32_t); }

static uint64_t fnv(const char *s, Py_ssize_t n) {
    uint64_t h = FNV_OFFSET;
    for (Py_ssize_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= FNV_PRIME;
    }
    return h;
}

static uint64_t mix(uint64_t k) { /* splitmix64's finaliser: keys of small ids spread over the table */
    k ^= k >> 30;
    k *= 0xbf58476d1ce4e5b9ULL;
    k ^= k >> 27;
    k *= 0x94d049bb133111ebULL;
    k ^= k >> 31;
    return k;
}

static inline uint64_t pair_key(int32_t a, int32_t b) { return ((uint64_t)(uint32_t)a << 32) | (uint32_t)b; }

static void *new_slots(Py_ssize_t n, size_t size, Py_ssize_t *mask) {
    Py_ssize_t cap = 16;
    while (cap < 2 * n + 1) cap <<= 1;
    *mask = cap - 1;
    void *slots = PyMem_Malloc(size * (size_t)cap);
    if (slots == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    memset(slots, 0xff, size * (size_t)cap); /* every id / end -1 */
    return slots;
}

static inline WordSlot *word_slot(WordScreen *self, uint64_t h) {
    for (Py_ssize_t i = (Py_ssize_t)(h & (uint64_t)self->word_mask);; i = (i + 1) & self->word_mask) {
        WordSlot *w = &self->words[i];
        if (w->id < 0 || w->hash == h) return w;
    }
}

static inline PrefixSlot *prefix_slot(WordScreen *self, uint64_t h) {
    for (Py_ssize_t i = (Py_ssize_t)(h & (uint64_t)self->prefix_mask);; i = (i + 1) & self->prefix_mask) {
        PrefixSlot *p = &self->prefixes[i];
        if (p->end < 0 || p->hash == h) return p;
    }
}

static inline uint64_t triple_hash(uint64_t key, int32_t third) {
    return mix(key ^ mix((uint64_t)(uint32_t)third + 0x9e3779b97f4a7c15ULL));
}

static inline int filtered(WordScreen *self, uint64_t h) { /* 1: not in the tables */
    uint64_t b = h >> self->filter_shift;
    return !((self->filter[b >> 6] >> (b & 63)) & 1);
}

static inline void filter_add(WordScreen *self, uint64_t h) {
    uint64_t b = h >> self->filter_shift;
    self->filter[b >> 6] |= 1ULL << (b & 63);
}

static inline PairSlot *pair_slot(WordScreen *self, uint64_t key) {
    for (Py_ssize_t i = (Py_ssize_t)(mix(key) & (uint64_t)self->pair_mask);; i = (i + 1) & self->pair_mask) {
        PairSlot *p = &self->pairs[i];
        if (p->end < 0 || p->key == key) return p;
    }
}

static inline TripleSlot *triple_slot(WordScreen *self, uint64_t key, int32_t third) {
    uint64_t h = triple_hash(key, third);
    for (Py_ssize_t i = (Py_ssize_t)(h & (uint64_t)self->triple_mask);; i = (i + 1) & self->triple_mask) {
        TripleSlot *t = &self->triples[i];
        if (t->end < 0 || (t->key == key && t->third == third)) return t;
    }
}

static inline uint32_t bloom_bits(int32_t a) { /* two 9-bit positions */
    uint64_t h = (uint64_t)(uint32_t)a * 0x9e3779b97f4a7c15ULL;
    return (uint32_t)(h >> 46); /* bits 0-8 and 9-17 */
}

static inline int maybe_marked(const WordScreen *self, int32_t a) {
    uint32_t b = bloom_bits(a), x = b & 511, y = (b >> 9) & 511;
    return ((self->bloom[x >> 6] >> (x & 63)) & (self->bloom[y >> 6] >> (y & 63)) & 1) != 0;
}

static inline void mark_one(WordScreen *self, int32_t a, uint32_t bit) {
    AtomMark *m = &self->marks[a];
    if (m->stamp != self->stamp) {
        m->stamp = self->stamp;
        m->sentences = bit;
        self->marked[self->nmarked++] = a;
        uint32_t b = bloom_bits(a), x = b & 511, y = (b >> 9) & 511;
        self->bloom[x >> 6] |= 1ULL << (x & 63);
        self->bloom[y >> 6] |= 1ULL << (y & 63);
        if (self->alone[a]) self->done = self->stop_early;
    } else {
        m->sentences |= bit;
    }
}

/* Mark atoms[start:end], whose first is `first` (one atom, mostly: the list is not read then). */
static inline void mark(WordScreen *self, const int32_t *atoms, int32_t start, int32_t end, int32_t first,
                        uint32_t bit) {
    mark_one(self, first, bit);
    for (int32_t j = start + 1; j < end; j++) mark_one(self, atoms[j], bit);
}

/* Words are read in chunks of this many, in three sweeps: hash them (and look up their prefixes), then read their
 * word slots and note the pairs and triples some table may hold, then read those. Each sweep only asks for slots
 * (a prefetch), the next one reads them: with 100,000 rules the tables are megabytes, and a document's misses,
 * taken one after another, were half the screen's time; asked for together they overlap. */
#define CHUNK 64

typedef struct {
    uint64_t key;
    int32_t third; /* -1: a pair */
    uint32_t bit;
} Candidate;

/* Mark the atoms found in the words of `s`; the stamp of this document is self->stamp. `starts` (ascending
 * word indices, `nstarts` of them) are where sentences after the first begin: no key runs across one, and
 * an atom notes the sentences it is in (the 32nd and later as one: a superset). Without them the document
 * is one sentence. */
static void read_words(WordScreen *self, const char *s, Py_ssize_t n, const Py_ssize_t *starts,
                       Py_ssize_t nstarts) {
    if (++self->stamp == 0) { /* wrapped around: forget every earlier document */
        for (Py_ssize_t a = 0; a < self->natoms; a++) self->marks[a].stamp = 0;
        self->stamp = 1;
    }
    self->nmarked = 0;
    self->done = 0;
    self->read = 1;
    memset(self->bloom, 0, sizeof(self->bloom));
    const int32_t *uni_start = I32(&self->uni_start), *uni_atoms = I32(&self->uni_atoms);
    const int32_t *bi_atoms = I32(&self->bi_atoms), *tri_atoms = I32(&self->tri_atoms);
    const int32_t *pre_atoms = I32(&self->pre_atoms);
    int triples = self->ntriples > 0;
    uint64_t lengths = self->prefix_lengths;
    uint32_t bit = 1;
    int32_t prev = -1, prev2 = -1;
    uint32_t prev_flags = 0, prev2_flags = 0;
    uint64_t prev_follows = 0, prev2_follows = 0, prev_me = 0;
    Py_ssize_t i = 0, word = 0, next = 0, sentence = 0;
    uint64_t hashes[CHUNK];
    uint32_t bits[CHUNK];
    uint8_t fresh[CHUNK]; /* 1: a sentence begins at this word */
    Candidate cands[2 * CHUNK];
    while (i < n) {
        /* 1. Hash up to CHUNK words; prefixes (a table of a few slots) are looked up as the bytes go. */
        int k = 0;
        while (k < CHUNK && i < n) {
            if (s[i] == ' ') {
                i++;
                continue;
            }
            fresh[k] = 0;
            while (next < nstarts && starts[next] <= word) { /* a sentence begins at this word */
                next++;
                sentence++;
                bit = 1U << (sentence < 31 ? sentence : 31);
                fresh[k] = 1;
            }
            word++;
            Py_ssize_t first = i;
            uint64_t h = FNV_OFFSET;
            while (i < n && s[i] != ' ') {
                h ^= (uint8_t)s[i];
                h *= FNV_PRIME;
                i++;
                Py_ssize_t len = i - first;
                if (len < 64 && ((lengths >> len) & 1)) { /* the word starts with a prefix of this length? */
                    PrefixSlot *p = prefix_slot(self, h);
                    if (p->end >= 0) mark(self, pre_atoms, p->start, p->end, pre_atoms[p->start], bit);
                }
            }
            hashes[k] = h;
            bits[k] = bit;
            __builtin_prefetch(&self->words[h & (uint64_t)self->word_mask]);
            k++;
        }
        if (self->done) return;
        /* 2. Read the word slots: a word's own atoms are marked, and the pairs and triples the adjacent words'
         * flags, follows masks and the bit filter let through are asked for. */
        int ncands = 0;
        for (int j = 0; j < k; j++) {
            if (fresh[j]) {
                prev = prev2 = -1;
                prev_flags = prev2_flags = 0;
                prev_follows = prev2_follows = 0;
            }
            uint64_t h = hashes[j];
            WordSlot *ws = word_slot(self, h);
            int32_t w = ws->id;
            uint32_t flags = w >= 0 ? ws->flags : 0;
            uint64_t follows = w >= 0 ? ws->follows : 0, me = 1ULL << (h >> 58);
            if (flags & OWN) mark(self, uni_atoms, uni_start[w], uni_start[w + 1], ws->first, bits[j]);
            if ((flags & PAIR_SECOND) && (prev_flags & PAIR_FIRST) && (prev_follows & me)) {
                uint64_t key = pair_key(prev, w), hk = mix(key);
                if (!filtered(self, hk)) {
                    __builtin_prefetch(&self->pairs[hk & (uint64_t)self->pair_mask]);
                    cands[ncands++] = (Candidate){key, -1, bits[j]};
                }
            }
            if (triples && (flags & TRIPLE_THIRD) && (prev_flags & TRIPLE_SECOND) && (prev2_flags & TRIPLE_FIRST) &&
                (prev_follows & me) && (prev2_follows & prev_me)) {
                uint64_t key = pair_key(prev2, prev), hk = triple_hash(key, w);
                if (!filtered(self, hk)) {
                    __builtin_prefetch(&self->triples[hk & (uint64_t)self->triple_mask]);
                    cands[ncands++] = (Candidate){key, w, bits[j]};
                }
            }
            prev2 = prev;
            prev2_flags = prev_flags;
            prev2_follows = prev_follows;
            prev = w;
            prev_flags = flags;
            prev_follows = follows;
            prev_me = me;
        }
        if (self->done) return;
        /* 3. Read the pairs and triples asked for. */
        for (int c = 0; c < ncands; c++) {
            Candidate *x = &cands[c];
            if (x->third < 0) {
                PairSlot *p = pair_slot(self, x->key);
                if (p->end >= 0) mark(self, bi_atoms, p->start, p->end, p->first, x->bit);
            } else {
                TripleSlot *t = triple_slot(self, x->key, x->third);
                if (t->end >= 0) mark(self, tri_atoms, t->start, t->end, t->first, x->bit);
            }
            if (self->done) return;
        }
    }
}

/* Test the `nclauses` clauses at `p` against this read's marks: *together keeps the sentences in which every
 * clause of kind 1 has a marked atom (0: the requirement does not hold; every bit: it holds, with no sentence
 * clause), *own counts its clauses of kind 1. Returns where the next requirement starts. */
static inline const int32_t *clauses_hold(const WordScreen *self, const int32_t *p, int32_t nclauses,
                                          uint32_t stamp, uint32_t *together, int32_t *own) {
    for (int32_t c = 0; c < nclauses; c++) {
        int32_t len = *p >> 1, kind = *p & 1;
        *own += kind;
        p++;
        uint32_t in = 0;
        for (int32_t j = 0; *together && j < len; j++) {
            if (!maybe_marked(self, p[j])) continue;
            const AtomMark *x = &self->marks[p[j]];
            if (x->stamp == stamp) in |= kind ? x->sentences : ~0U;
        }
        p += len;
        *together &= in;
    }
    return p;
}

/* Whether a requirement triggered by a marked atom holds: each clause of kind 0 has a marked atom, and the
 * clauses of kind 1 have marked atoms in one sentence. 1: one holds that has at most one clause of kind 1 (so
 * it holds in whichever sentence that clause's atom is: knowing the sentences would change nothing); 2: only
 * requirements of two or more clauses of kind 1 hold (the sentences may tell more); 0: none holds. */
static int viable(WordScreen *self) {
    if (self->done) return 1; /* an atom that makes a signal viable alone */
    int found = 0;
    const int32_t *trig = I32(&self->trig);
    uint32_t stamp = self->stamp;
    for (Py_ssize_t m = 0; m < self->nmarked; m++) {
        AtomMark *am = &self->marks[self->marked[m]];
        const int32_t *p = trig + am->begin, *end = trig + am->end;
        while (p < end) {
            int32_t nclauses = *p, own = 0;
            p += 2; /* (and its group) */
            uint32_t together = ~0U; /* the sentences every clause of kind 1 so far has an atom in */
            p = clauses_hold(self, p, nclauses, stamp, &together, &own);
            if (together) {
                if (own <= 1) return 1;
                found = 2;
            }
        }
    }
    return found;
}

/* The padded view's UTF-8, and the optional sentence starts as a C array (freed by the caller). */
static const char *read_args(PyObject *args, Py_ssize_t *n, Py_ssize_t **starts, Py_ssize_t *nstarts) {
    PyObject *norm, *seq = Py_None;
    *starts = NULL;
    *nstarts = 0;
    if (!PyArg_ParseTuple(args, "U|O", &norm, &seq)) return NULL;
    const char *s = PyUnicode_AsUTF8AndSize(norm, n);
    if (s == NULL || seq == Py_None) return s;
    /* A tuple, never the caller's list: an item's __index__ (Python code) could shrink a list under the loop
     * below, which reads the items by index (a read past its end, or of a freed array). */
    PyObject *fast = PySequence_Tuple(seq);
    if (fast == NULL) return NULL;
    Py_ssize_t k = PyTuple_GET_SIZE(fast);
    *starts = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(k + 1));
    if (*starts == NULL) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t j = 0; j < k; j++) {
        Py_ssize_t v = PyNumber_AsSsize_t(PyTuple_GET_ITEM(fast, j), PyExc_OverflowError);
        if (v == -1 && PyErr_Occurred()) {
            Py_DECREF(fast);
            PyMem_Free(*starts);
            *starts = NULL;
            return NULL;
        }
        (*starts)[j] = v;
    }
    Py_DECREF(fast);
    *nstarts = k;
    return s;
}

/* 0 when __init__ built the tables; else -1 with an exception set (they may be NULL, or half made). */
static int not_ready(const WordScreen *self) {
    if (self->ready) return 0;
    PyErr_SetString(PyExc_RuntimeError, "word screen: not initialised (its __init__ was not called, or failed)");
    return -1;
}

/* Read the words of the call's arguments (norm, starts=None); 0, or -1 with an exception set. */
static int read_call(WordScreen *self, PyObject *args, int stop_early) {
    if (not_ready(self)) return -1;
    Py_ssize_t n, *starts, nstarts;
    const char *s = read_args(args, &n, &starts, &nstarts);
    if (s == NULL) return -1;
    self->stop_early = stop_early;
    read_words(self, s, n, starts, nstarts);
    PyMem_Free(starts);
    return 0;
}

static PyObject *WordScreen_may_match(WordScreen *self, PyObject *args) {
    if (read_call(self, args, 1) < 0) return NULL;
    return PyLong_FromLong(viable(self));
}

/* After may_match: the signals of the requirements that hold in what it read, and the sentences where they do
 * (bit k: sentence k, bit 31: the 32nd or a later one; every bit where one has no sentence clause, and when the
 * read was not given the sentences); None when that read stopped at its first atom a signal needs alone (its
 * marks are not all there) or there was none. A superset of the signals that can match: the extractor reads
 * only these, and with the sentences known only those sentences. */
static PyObject *WordScreen_held(WordScreen *self, PyObject *Py_UNUSED(ignored)) {
    if (not_ready(self)) return NULL;
    if (!self->read || self->done) Py_RETURN_NONE;
    PyObject *names = PySet_New(NULL);
    if (names == NULL) return NULL;
    const int32_t *trig = I32(&self->trig);
    uint32_t stamp = self->stamp, where = 0;
    if (++self->held_calls == 0) { /* wrapped around: forget every earlier call */
        memset(self->group_stamp, 0, sizeof(uint32_t) * (size_t)PyTuple_GET_SIZE(self->groups));
        self->held_calls = 1;
    }
    uint32_t call = self->held_calls;
    for (Py_ssize_t m = 0; m < self->nmarked; m++) {
        const AtomMark *am = &self->marks[self->marked[m]];
        const int32_t *p = trig + am->begin, *end = trig + am->end;
        while (p < end) {
            int32_t nclauses = p[0], group = p[1], own = 0;
            uint32_t together = ~0U;
            p = clauses_hold(self, p + 2, nclauses, stamp, &together, &own);
            if (!together) continue;
            where |= together;
            if (self->group_stamp[group] == call) continue;
            self->group_stamp[group] = call;
            PyObject *of = PyTuple_GET_ITEM(self->groups, group);
            for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(of); j++) {
                if (PySet_Add(names, PyTuple_GET_ITEM(of, j)) < 0) {
                    Py_DECREF(names);
                    return NULL;
                }
            }
        }
    }
    return Py_BuildValue("(Nk)", names, (unsigned long)where);
}

static PyObject *WordScreen_atoms(WordScreen *self, PyObject *args) {
    if (read_call(self, args, 0) < 0) return NULL;
    PyObject *out = PyList_New(self->nmarked);
    if (out == NULL) return NULL;
    for (Py_ssize_t m = 0; m < self->nmarked; m++) {
        PyObject *v = PyLong_FromLong(self->marked[m]);
        if (v == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, m, v);
    }
    return out;
}

static void WordScreen_dealloc(WordScreen *self) {
    Py_buffer *bufs[] = {&self->uni_start, &self->uni_atoms,  &self->bi_atoms, &self->tri_atoms,
                         &self->pre_atoms, &self->trig_start, &self->trig};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++) {
        if (bufs[i]->obj != NULL) PyBuffer_Release(bufs[i]);
    }
    PyMem_Free(self->words);
    PyMem_Free(self->pairs);
    PyMem_Free(self->triples);
    PyMem_Free(self->prefixes);
    PyMem_Free(self->filter);
    PyMem_Free(self->marks);
    PyMem_Free(self->marked);
    PyMem_Free(self->alone);
    PyMem_Free(self->group_stamp);
    Py_XDECREF(self->groups);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* A CSR start array must have `rows` + 1 entries, rise, and index inside `items` entries below `bound`. */
static int check_csr(Py_buffer *start, Py_buffer *items, Py_ssize_t rows, Py_ssize_t bound, const char *what) {
    const int32_t *st = I32(start), *it = I32(items);
    if (N32(start) != rows + 1 || st[0] != 0 || st[rows] != N32(items)) {
        PyErr_Format(PyExc_ValueError, "word screen: %s has a bad index", what);
        return -1;
    }
    for (Py_ssize_t r = 0; r < rows; r++) {
        if (st[r + 1] < st[r]) {
            PyErr_Format(PyExc_ValueError, "word screen: %s index falls", what);
            return -1;
        }
    }
    for (Py_ssize_t j = 0; j < N32(items); j++) {
        if (it[j] < 0 || it[j] >= bound) {
            PyErr_Format(PyExc_ValueError, "word screen: %s refers outside its range", what);
            return -1;
        }
    }
    return 0;
}

static int check_strings(Py_buffer *blob, Py_buffer *offsets, const char *what) {
    const int32_t *off = I32(offsets);
    Py_ssize_t n = N32(offsets) - 1;
    if (n < 0 || off[0] != 0 || off[n] != blob->len) {
        PyErr_Format(PyExc_ValueError, "word screen: %s has a bad index", what);
        return -1;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        if (off[k + 1] < off[k]) {
            PyErr_Format(PyExc_ValueError, "word screen: %s index falls", what);
            return -1;
        }
    }
    return 0;
}

static int check_ids(Py_buffer *ids, Py_ssize_t bound, const char *what) {
    for (Py_ssize_t j = 0; j < N32(ids); j++) {
        if (I32(ids)[j] < 0 || I32(ids)[j] >= bound) {
            PyErr_Format(PyExc_ValueError, "word screen: %s names an unknown word", what);
            return -1;
        }
    }
    return 0;
}

/* The tables kept after __init__ are read on every call, as they were checked: they must be bytes. Any other
 * buffer (a bytearray, an array, a memoryview of one) can be written to afterwards, and an atom id or an index
 * written there would be read unchecked (marks[a] is written to: a write outside the heap block). */
static int check_kept(WordScreen *self) {
    Py_buffer *kept[] = {&self->uni_start, &self->uni_atoms, &self->bi_atoms, &self->tri_atoms,
                         &self->pre_atoms, &self->trig_start, &self->trig};
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
        if (kept[i]->obj == NULL || !PyBytes_Check(kept[i]->obj)) {
            PyErr_SetString(PyExc_TypeError, "word screen: its atom tables must be bytes (immutable)");
            return -1;
        }
    }
    return 0;
}

/* Each group is a tuple of signal names (str). */
static int check_groups(PyObject *groups) {
    for (Py_ssize_t g = 0; g < PyTuple_GET_SIZE(groups); g++) {
        PyObject *of = PyTuple_GET_ITEM(groups, g);
        if (!PyTuple_Check(of)) goto bad;
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(of); j++) {
            if (!PyUnicode_Check(PyTuple_GET_ITEM(of, j))) goto bad;
        }
    }
    return 0;
bad:
    PyErr_SetString(PyExc_ValueError, "word screen: a group must be a tuple of signal names");
    return -1;
}

/* The requirements' sweep must parse as viable() reads it, row by row, and name only atoms. */
static int check_trig(WordScreen *self) {
    const int32_t *st = I32(&self->trig_start), *t = I32(&self->trig);
    Py_ssize_t natoms = self->natoms, n = N32(&self->trig), ngroups = PyTuple_GET_SIZE(self->groups);
    if (N32(&self->trig_start) != natoms + 1 || st[0] != 0 || st[natoms] != n) goto bad;
    for (Py_ssize_t a = 0; a < natoms; a++) {
        Py_ssize_t p = st[a], end = st[a + 1];
        if (end < p) goto bad;
        while (p < end) {
            if (p + 2 > end) goto bad;
            Py_ssize_t nclauses = t[p], group = t[p + 1];
            if (nclauses < 1 || group < 0 || group >= ngroups) goto bad;
            p += 2;
            for (Py_ssize_t c = 0; c < nclauses; c++) {
                if (p >= end || t[p] < 0) goto bad;
                Py_ssize_t len = t[p++] >> 1;
                if (p + len > end) goto bad;
                for (Py_ssize_t j = 0; j < len; j++) {
                    if (t[p + j] < 0 || t[p + j] >= natoms) goto bad;
                }
                p += len;
            }
        }
    }
    return 0;
bad:
    PyErr_SetString(PyExc_ValueError, "word screen: the requirements do not parse");
    return -1;
}

static int build(WordScreen *self, Py_buffer *word_blob, Py_buffer *word_off, Py_buffer *bi_words,
                 Py_buffer *bi_start, Py_buffer *tri_words, Py_buffer *tri_start, Py_buffer *prefix_blob,
                 Py_buffer *prefix_off, Py_buffer *pre_start) {
    Py_ssize_t nwords = N32(word_off) - 1, npairs = N32(bi_start) - 1, ntriples = N32(tri_start) - 1;
    Py_ssize_t nprefixes = N32(prefix_off) - 1, natoms = self->natoms;
    if (natoms < 0 || nwords < 0 || npairs < 0 || ntriples < 0 || nprefixes < 0 ||
        N32(bi_words) != 2 * npairs || N32(tri_words) != 3 * ntriples || natoms > INT32_MAX - 1) {
        PyErr_SetString(PyExc_ValueError, "word screen: tables of inconsistent sizes");
        return -1;
    }
    if (check_strings(word_blob, word_off, "words") || check_strings(prefix_blob, prefix_off, "prefixes") ||
        check_ids(bi_words, nwords, "a pair") || check_ids(tri_words, nwords, "a triple") ||
        check_csr(&self->uni_start, &self->uni_atoms, nwords, natoms, "words' atoms") ||
        check_csr(bi_start, &self->bi_atoms, npairs, natoms, "pairs' atoms") ||
        check_csr(tri_start, &self->tri_atoms, ntriples, natoms, "triples' atoms") ||
        check_csr(pre_start, &self->pre_atoms, nprefixes, natoms, "prefixes' atoms") ||
        check_trig(self)) {
        return -1;
    }
    self->words = new_slots(nwords, sizeof(WordSlot), &self->word_mask);
    self->pairs = new_slots(npairs, sizeof(PairSlot), &self->pair_mask);
    self->triples = new_slots(ntriples, sizeof(TripleSlot), &self->triple_mask);
    self->prefixes = new_slots(nprefixes, sizeof(PrefixSlot), &self->prefix_mask);
    int bits = 12;
    while (bits < 40 && ((Py_ssize_t)1 << bits) < 8 * (npairs + ntriples)) bits++;
    self->filter_shift = 64 - bits;
    self->filter = PyMem_Calloc(((size_t)1 << bits) / 64, sizeof(uint64_t));
    self->marks = PyMem_Calloc((size_t)natoms + 1, sizeof(AtomMark));
    self->marked = PyMem_Malloc(sizeof(int32_t) * ((size_t)natoms + 1));
    self->alone = PyMem_Calloc((size_t)natoms + 1, 1);
    self->group_stamp = PyMem_Calloc((size_t)PyTuple_GET_SIZE(self->groups) + 1, sizeof(uint32_t));
    if (!self->alone || !self->group_stamp || !self->words || !self->pairs || !self->triples || !self->prefixes || !self->filter || !self->marks ||
        !self->marked) {
        PyErr_NoMemory();
        return -1;
    }
    self->ntriples = ntriples;
    const int32_t *tst = I32(&self->trig_start), *trig = I32(&self->trig);
    for (Py_ssize_t a = 0; a < natoms; a++) {
        self->marks[a].begin = tst[a];
        self->marks[a].end = tst[a + 1];
        for (Py_ssize_t p = tst[a]; p < tst[a + 1];) { /* (parsed by check_trig already) */
            int32_t nclauses = trig[p];
            p += 2;
            if (nclauses == 1) self->alone[a] = 1;
            for (int32_t c = 0; c < nclauses; c++) p += 1 + (trig[p] >> 1);
        }
    }
    const int32_t *woff = I32(word_off), *uni = I32(&self->uni_start);
    WordSlot **slot_of = PyMem_Malloc(sizeof(WordSlot *) * ((size_t)nwords + 1));
    if (slot_of == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t k = 0; k < nwords; k++) {
        uint64_t h = fnv((const char *)word_blob->buf + woff[k], woff[k + 1] - woff[k]);
        WordSlot *w = word_slot(self, h);
        if (w->id >= 0) {
            PyMem_Free(slot_of);
            PyErr_SetString(PyExc_ValueError, "word screen: two words share a hash");
            return -1;
        }
        w->hash = h;
        w->id = (int32_t)k;
        w->flags = uni[k + 1] > uni[k] ? OWN : 0;
        w->first = uni[k + 1] > uni[k] ? I32(&self->uni_atoms)[uni[k]] : -1;
        w->follows = 0;
        slot_of[k] = w;
    }
    const int32_t *bw = I32(bi_words), *bs = I32(bi_start), *tw = I32(tri_words), *ts = I32(tri_start);
    const int32_t *ps = I32(pre_start);
    for (Py_ssize_t k = 0; k < npairs + ntriples + nprefixes; k++) { /* a slot's first atom is read unchecked */
        const int32_t *st = k < npairs ? bs + k : k < npairs + ntriples ? ts + (k - npairs) : ps + (k - npairs - ntriples);
        if (st[1] <= st[0]) {
            PyMem_Free(slot_of);
            PyErr_SetString(PyExc_ValueError, "word screen: a pair, triple or prefix without atoms");
            return -1;
        }
    }
    for (Py_ssize_t k = 0; k < npairs; k++) {
        PairSlot *p = pair_slot(self, pair_key(bw[2 * k], bw[2 * k + 1]));
        p->key = pair_key(bw[2 * k], bw[2 * k + 1]);
        p->start = bs[k];
        p->end = bs[k + 1];
        p->first = I32(&self->bi_atoms)[bs[k]];
        filter_add(self, mix(p->key));
        slot_of[bw[2 * k]]->flags |= PAIR_FIRST;
        slot_of[bw[2 * k]]->follows |= 1ULL << (slot_of[bw[2 * k + 1]]->hash >> 58);
        slot_of[bw[2 * k + 1]]->flags |= PAIR_SECOND;
    }
    for (Py_ssize_t k = 0; k < ntriples; k++) {
        TripleSlot *t = triple_slot(self, pair_key(tw[3 * k], tw[3 * k + 1]), tw[3 * k + 2]);
        t->key = pair_key(tw[3 * k], tw[3 * k + 1]);
        t->third = tw[3 * k + 2];
        t->start = ts[k];
        t->end = ts[k + 1];
        t->first = I32(&self->tri_atoms)[ts[k]];
        filter_add(self, triple_hash(t->key, t->third));
        slot_of[tw[3 * k]]->flags |= TRIPLE_FIRST;
        slot_of[tw[3 * k]]->follows |= 1ULL << (slot_of[tw[3 * k + 1]]->hash >> 58);
        slot_of[tw[3 * k + 1]]->follows |= 1ULL << (slot_of[tw[3 * k + 2]]->hash >> 58);
        slot_of[tw[3 * k + 1]]->flags |= TRIPLE_SECOND;
        slot_of[tw[3 * k + 2]]->flags |= TRIPLE_THIRD;
    }
    PyMem_Free(slot_of);
    const int32_t *poff = I32(prefix_off);
    self->prefix_lengths = 0;
    for (Py_ssize_t k = 0; k < nprefixes; k++) {
        Py_ssize_t len = poff[k + 1] - poff[k];
        if (len < 1 || len > 63) {
            PyErr_SetString(PyExc_ValueError, "word screen: a prefix must be 1 to 63 bytes long");
            return -1;
        }
        uint64_t h = fnv((const char *)prefix_blob->buf + poff[k], len);
        PrefixSlot *p = prefix_slot(self, h);
        if (p->end >= 0) {
            PyErr_SetString(PyExc_ValueError, "word screen: two prefixes share a hash");
            return -1;
        }
        p->hash = h;
        p->start = ps[k];
        p->end = ps[k + 1];
        self->prefix_lengths |= 1ULL << len;
    }
    self->stamp = 0;
    return 0;
}

static int WordScreen_init(WordScreen *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"words",       "word_offsets", "uni_start",    "uni_atoms",      "bi_pairs",
                             "bi_start",    "bi_atoms",     "tri_words",    "tri_start",      "tri_atoms",
                             "prefixes",    "prefix_offsets", "pre_start",  "pre_atoms",      "natoms",
                             "trig_start",  "trig",         "groups",       NULL};
    if (self->uni_start.obj != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "word screen: already initialised");
        return -1;
    }
    /* Only needed to build the slots: released at the end. */
    Py_buffer word_blob, word_off, bi_words, bi_start, tri_words, tri_start, prefix_blob, prefix_off, pre_start;
    if (!PyArg_ParseTupleAndKeywords(
            args, kwds, "y*y*y*y*y*y*y*y*y*y*y*y*y*y*ny*y*O!", kwlist, &word_blob, &word_off,
            &self->uni_start, &self->uni_atoms, &bi_words, &bi_start, &self->bi_atoms, &tri_words, &tri_start,
            &self->tri_atoms, &prefix_blob, &prefix_off, &pre_start, &self->pre_atoms, &self->natoms,
            &self->trig_start, &self->trig, &PyTuple_Type, &self->groups)) {
        return -1;
    }
    Py_INCREF(self->groups);
    int got = check_kept(self) < 0 || check_groups(self->groups) < 0
                  ? -1
                  : build(self, &word_blob, &word_off, &bi_words, &bi_start, &tri_words, &tri_start, &prefix_blob,
                          &prefix_off, &pre_start);
    Py_buffer *temp[] = {&word_blob, &word_off, &bi_words, &bi_start, &tri_words,
                         &tri_start, &prefix_blob, &prefix_off, &pre_start};
    for (size_t i = 0; i < sizeof(temp) / sizeof(temp[0]); i++) PyBuffer_Release(temp[i]);
    self->ready = got == 0;
    return got;
}

static PyMethodDef WordScreen_methods[] = {
    {"may_match", (PyCFunction)WordScreen_may_match, METH_VARARGS,
     "may_match(norm, starts=None) -> int: whether some signal can be viable in the padded word view `norm`,\n"
     "whose sentences after the first begin at the word indices `starts`: 0 no; 1 yes; 2 yes, but only by\n"
     "signals that need two or more clauses in one sentence (asking again with `starts` may say no)."},
    {"held", (PyCFunction)WordScreen_held, METH_NOARGS,
     "held() -> tuple[set[str], int] | None: after may_match, the signals whose requirements hold in what it read\n"
     "and the sentences where they do (bit k: sentence k; 31: the 32nd and later); None when it stopped early."},
    {"atoms", (PyCFunction)WordScreen_atoms, METH_VARARGS,
     "atoms(norm, starts=None) -> list[int]: the ids of the atoms whose presence key is in `norm` (tests)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject WordScreenType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "_wordscreen.WordScreen",
    .tp_basicsize = sizeof(WordScreen),
    .tp_dealloc = (destructor)WordScreen_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The word screen's tables (wordscreen.py builds them).",
    .tp_methods = WordScreen_methods,
    .tp_init = (initproc)WordScreen_init,
    .tp_new = PyType_GenericNew,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_wordscreen", "The word screen of the native engine (wordscreen.py).", -1, NULL, NULL,
    NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__wordscreen(void) {
    if (PyType_Ready(&WordScreenType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    Py_INCREF(&WordScreenType);
    if (PyModule_AddObject(m, "WordScreen", (PyObject *)&WordScreenType) < 0) {
        Py_DECREF(&WordScreenType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
