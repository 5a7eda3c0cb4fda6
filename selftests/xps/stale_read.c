// SPDX-License-Identifier: GPL-2.0
/*
 * Stale-read checker for the XPS Redis GET handler (issue 3).
 *
 * Debian's redis-server runs in the guest with the shipped handler
 * (`xpsctl handler attach redis`) and its cache filler. Reader threads GET
 * a small keyspace as fast as they can, alone or pipelined, while writer
 * threads take turns with every class of write the handler must see: the
 * SET family (SET, SET PX, SETNX, SET GET, MSET), DEL/UNLINK/GETDEL,
 * expiry (PEXPIRE, GETEX PX, PERSIST, and keys expiring by themselves),
 * INCRBY, APPEND, RENAME, COPY, MULTI/EXEC, scripts with declared and
 * undeclared keys, FLUSHDB. Values are numbers, text up to the cacheable
 * size, and values too large to be cached.
 *
 * Writes are serialised (one at a time, whichever connection), so each
 * key's history is a sequence of states, each with the interval in which
 * its write ran, and an expiry time bracketed by that interval. The state
 * after a write follows from the command and its reply (INCRBY's result,
 * APPEND's length, RENAME's error...), never from a read that XPS could
 * answer. A GET sent at ts and answered at tr may return the state of any
 * write that had not been acknowledged before ts and had started before
 * tr, honouring expiry; anything else is a stale (or lost) value and fails
 * the test. Every GET is checked, whoever answered it: Redis itself is the
 * reference, so a violation is the kernel cache's. The handler's tx counter
 * shows how many GETs the kernel answered, and the test also fails when
 * that is too few to have meant anything.
 *
 * Variants:
 *  - shipped_handler: as above.
 *  - shipped_handler_with_eviction: Redis with maxmemory and allkeys-random,
 *    filled from database 1 until it evicts. The writers probe with EXISTS
 *    after each write and record evictions of model keys as states of their
 *    own (a nil GET is then always acceptable, a value only if it is in the
 *    history).
 *  - write_fences_disabled: build/bpf/xps_redis_incoherent.bpf.o, the same
 *    handler with its write fences sent to one fixed slot instead of the
 *    written keys'. The checker must find stale reads: it can fail.
 *
 * The shipped handler's plain SETs go write-through (their values are
 * served from Redis's +OK on), which the first variant must show it ran.
 * Fixture "wt" tests that path on its own: a SET's value answered by the
 * kernel right after its +OK, a SET that Redis refuses never answered, and
 * a SET answered while an older write of its key waits in a transaction
 * never answered once the transaction ran.
 *
 *   scripts/vm-run.sh 'build/selftests/xps/stale_read'
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "kselftest_harness.h"
#include "xsel.h"

#define SR_PORT		6379
#define SR_NAME		"stale"
#define SR_KEYS		8
#define SR_READERS	3
#define SR_WRITERS	2
#define SR_GETS_MAX	(1 << 19)	/* records per reader */
#define SR_BIG		2000		/* bytes: larger than a cache entry */
#define SR_SYS		"/sys/kernel/xps/handlers/" SR_NAME
#define SR_GLOBAL	"/sys/kernel/xps"

/* --- time ---------------------------------------------------------------- */

/* CLOCK_REALTIME in microseconds: the clock Redis expires keys by. */
static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static uint64_t fnv(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--)
		h = (h ^ (unsigned char)*p++) * 0x100000001b3ULL;
	return h;
}

/* --- a minimal RESP client ------------------------------------------------ */

struct rconn {
	int fd;
	size_t head, tail;
	char buf[1 << 16];
};

struct rreply {
	char type;		/* + - : $ * */
	bool nil;
	long long num;
	char *str;		/* + - $, NUL-terminated */
	size_t len;
	struct rreply *elem;	/* * */
	size_t n;
};

static int rc_open(struct rconn *c)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(SR_PORT),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct timeval tv = { .tv_sec = 10 };
	int one = 1;

	c->head = c->tail = 0;
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (connect(c->fd, (void *)&sin, sizeof(sin)))
		if (errno != EINTR)
			return -1;
	return 0;
}

/* A new connection to Redis, or NULL. */
static struct rconn *rc_new(void)
{
	struct rconn *c = malloc(sizeof(*c));

	if (c && rc_open(c)) {
		if (c->fd >= 0)
			close(c->fd);
		free(c);
		c = NULL;
	}
	return c;
}

static void rc_free(struct rconn *c)
{
	if (c) {
		close(c->fd);
		free(c);
	}
}

static int rc_send(struct rconn *c, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(c->fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

static int rc_fill(struct rconn *c)
{
	ssize_t r;

	if (c->head == c->tail) {
		c->head = c->tail = 0;
	} else if (c->tail == sizeof(c->buf)) {
		memmove(c->buf, c->buf + c->head, c->tail - c->head);
		c->tail -= c->head;
		c->head = 0;
	}
	if (c->tail == sizeof(c->buf))
		return -1;
	do
		r = read(c->fd, c->buf + c->tail, sizeof(c->buf) - c->tail);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return -1;
	c->tail += r;
	return 0;
}

/* The next line without its CRLF, copied to @out (NUL-terminated). */
static int rc_line(struct rconn *c, char *out, size_t cap)
{
	for (;;) {
		char *s = c->buf + c->head;
		char *e = memmem(s, c->tail - c->head, "\r\n", 2);

		if (e) {
			size_t n = e - s;

			if (n >= cap)
				return -1;
			memcpy(out, s, n);
			out[n] = '\0';
			c->head += n + 2;
			return 0;
		}
		if (rc_fill(c))
			return -1;
	}
}

static int rc_bytes(struct rconn *c, char *out, size_t n)
{
	while (n) {
		size_t have = c->tail - c->head;

		if (!have) {
			if (rc_fill(c))
				return -1;
			continue;
		}
		if (have > n)
			have = n;
		memcpy(out, c->buf + c->head, have);
		c->head += have;
		out += have;
		n -= have;
	}
	return 0;
}

static void rr_free(struct rreply *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		rr_free(&r->elem[i]);
	free(r->elem);
	free(r->str);
	memset(r, 0, sizeof(*r));
}

static int rc_reply(struct rconn *c, struct rreply *r)
{
	char line[256], crlf[2];
	size_t i;

	memset(r, 0, sizeof(*r));
	if (rc_line(c, line, sizeof(line)))
		return -1;
	r->type = line[0];
	switch (r->type) {
	case '+':
	case '-':
		r->str = strdup(line + 1);
		r->len = strlen(line + 1);
		return r->str ? 0 : -1;
	case ':':
		r->num = strtoll(line + 1, NULL, 10);
		return 0;
	case '$':
		r->num = strtoll(line + 1, NULL, 10);
		if (r->num < 0) {
			r->nil = true;
			return 0;
		}
		r->len = r->num;
		r->str = malloc(r->len + 1);
		if (!r->str || rc_bytes(c, r->str, r->len) ||
		    rc_bytes(c, crlf, 2))
			return -1;
		r->str[r->len] = '\0';
		return 0;
	case '*':
		r->num = strtoll(line + 1, NULL, 10);
		if (r->num < 0) {
			r->nil = true;
			return 0;
		}
		r->n = r->num;
		r->elem = calloc(r->n ? r->n : 1, sizeof(*r->elem));
		if (!r->elem)
			return -1;
		for (i = 0; i < r->n; i++)
			if (rc_reply(c, &r->elem[i]))
				return -1;
		return 0;
	}
	return -1;
}

/* Append one command (NULL-terminated arguments) to a send buffer. */
struct rbuf {
	char *p;
	size_t len, cap;
};

static void rb_put(struct rbuf *b, const char *s, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 256;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void rb_cmd(struct rbuf *b, ...)
{
	const char *argv[16], *a;
	char hdr[32];
	va_list ap;
	int argc = 0, i;

	va_start(ap, b);
	while ((a = va_arg(ap, const char *)) && argc < 16)
		argv[argc++] = a;
	va_end(ap);
	rb_put(b, hdr, snprintf(hdr, sizeof(hdr), "*%d\r\n", argc));
	for (i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);

		rb_put(b, hdr, snprintf(hdr, sizeof(hdr), "$%zu\r\n", n));
		rb_put(b, argv[i], n);
		rb_put(b, "\r\n", 2);
	}
}

/* --- the model: each key's history of states ------------------------------- */

/*
 * A key's state after a write. exp_lo..exp_hi (ms) bracket its expiry
 * time (0: none): Redis computed it from its clock while the write ran.
 */
struct sstate {
	char *v;		/* NULL: no such key */
	size_t len;
	uint64_t h;
	long long exp_lo, exp_hi;
};

struct srec {
	long long start, ack;	/* us: the write ran in between */
	int op;			/* enum sop, for the report */
	struct sstate s;
};

struct shist {
	struct srec *r;
	size_t n, cap;
};

struct sget {
	uint8_t key;
	bool nil;
	uint32_t len;
	long long ts, tr;
	uint64_t h;
	char head[16];		/* the value's first bytes, for the report */
};

static struct {
	pthread_mutex_t lock;		/* writes, the model, the counters */
	volatile int stop;
	struct sstate cur[SR_KEYS];	/* after the last write */
	struct shist hist[SR_KEYS];
	unsigned long long seq;
	int op;				/* the write running */
	bool evicting;			/* maxmemory: keys may vanish */
	unsigned long evictions;	/* of model keys, seen by probes */
	unsigned long writes[32], write_errors, reader_errors;
	struct sget *gets[SR_READERS];
	size_t ngets[SR_READERS];
} sr = { .lock = PTHREAD_MUTEX_INITIALIZER };

static const char *key_name(int k)
{
	static const char *names[SR_KEYS] = {
		"sr:k0", "sr:k1", "sr:k2", "sr:k3",
		"sr:k4", "sr:k5", "sr:k6", "sr:k7",
	};

	return names[k];
}

static void st_set(struct sstate *s, const char *v, size_t len,
		   long long lo, long long hi)
{
	char *copy = NULL;

	/* v may be s->v itself (a new expiry for the same value). */
	if (v) {
		copy = malloc(len + 1);
		if (!copy)
			abort();
		memcpy(copy, v, len);
		copy[len] = '\0';
	}
	free(s->v);
	s->v = copy;
	s->len = v ? len : 0;
	s->h = v ? fnv(copy, len) : 0;
	s->exp_lo = lo;
	s->exp_hi = hi;
}

static void st_del(struct sstate *s)
{
	st_set(s, NULL, 0, 0, 0);
}

static void st_copy(struct sstate *d, const struct sstate *s)
{
	st_set(d, s->v, s->len, s->exp_lo, s->exp_hi);
}

/* Record key k's current model state as the result of a write. */
static void record(int k, long long start, long long ack)
{
	struct shist *h = &sr.hist[k];
	struct srec *r;

	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 1024;
		h->r = realloc(h->r, h->cap * sizeof(*h->r));
		if (!h->r)
			abort();
	}
	r = &h->r[h->n++];
	memset(r, 0, sizeof(*r));
	r->start = start;
	r->ack = ack;
	r->op = sr.op;
	st_copy(&r->s, &sr.cur[k]);
}

/* --- writes ------------------------------------------------------------- */

enum sop {
	OP_SET, OP_SETPX, OP_SETNX, OP_SETGET, OP_MSET, OP_DEL, OP_UNLINK,
	OP_GETDEL, OP_PEXPIRE, OP_GETEX, OP_PERSIST, OP_INCRBY, OP_APPEND,
	OP_RENAME, OP_COPY, OP_MULTI, OP_EVAL_KEYS, OP_EVAL_NOKEYS, OP_FLUSHDB,
	OP_NR,
	OP_EVICTED = OP_NR,	/* not a write: found gone by a probe */
};

static const char *const op_names[OP_NR + 1] = {
	"SET", "SET PX", "SETNX", "SET GET", "MSET", "DEL", "UNLINK",
	"GETDEL", "PEXPIRE", "GETEX PX", "PERSIST", "INCRBY", "APPEND",
	"RENAME", "COPY", "MULTI/EXEC", "EVAL keys", "EVAL no keys", "FLUSHDB",
	"(evicted)",
};

/* Weights out of 100: FLUSHDB rare, so that the cache gets to serve. */
static const int op_weight[OP_NR] = {
	14, 7, 4, 5, 6, 4, 3, 3, 7, 4, 4, 8, 6, 5, 4, 7, 4, 4, 1,
};

/* A new value: a number (for INCRBY), cacheable text, or too big to cache. */
static void new_value(char *out, size_t cap, unsigned int *rnd)
{
	int kind = rand_r(rnd) % 10;
	unsigned long long id = ++sr.seq;
	size_t n;

	if (kind < 6) {
		snprintf(out, cap, "%llu", id * 1000);
		return;
	}
	n = snprintf(out, cap, "t%llu:", id);
	for (size_t want = kind < 9 ? 20 + rand_r(rnd) % 480 : SR_BIG;
	     n < want && n + 1 < cap; n++)
		out[n] = 'a' + (id + n) % 26;
	out[n] = '\0';
}

/* The state a write saw for an existing key: expired ones count as gone. */
static bool alive(int k, long long start_us)
{
	const struct sstate *s = &sr.cur[k];

	return s->v && !(s->exp_hi && s->exp_hi * 1000 < start_us - 1000);
}

static long long ms(long long us)
{
	return us / 1000;
}

/* INCRBY's reply r: the value, and the expiry it kept if the key lived. */
static void apply_incr(int k, long long by, const struct rreply *r,
		       long long start, long long ack)
{
	struct sstate *s = &sr.cur[k];
	char num[32];
	long long lo = 0, hi = 0;
	char *end;

	if (r->type != ':')
		return;	/* not an integer: unchanged */
	if (s->v) {
		long long old = strtoll(s->v, &end, 10);

		/* old + by == by: alive only if surely not yet expired */
		if (!*end && old + by == r->num &&
		    (old || !s->exp_lo || ms(ack) < s->exp_lo)) {
			lo = s->exp_lo;
			hi = s->exp_hi;
		}
	}
	snprintf(num, sizeof(num), "%lld", r->num);
	st_set(s, num, strlen(num), lo, hi);
	record(k, start, ack);
}

static long long ttl_ms(unsigned int *rnd)
{
	return 150 + rand_r(rnd) % 350;
}

/*
 * One write on connection c, under sr.lock. Returns -1 when the connection
 * failed or a reply made no sense for the model (a checker bug).
 */
static int do_write(struct rconn *c, enum sop op, unsigned int *rnd,
		    struct __test_metadata *_metadata)
{
	static char v[SR_BIG + 64], v2[SR_BIG + 64];
	int a = rand_r(rnd) % SR_KEYS, b = (a + 1 + rand_r(rnd) % (SR_KEYS - 1)) % SR_KEYS;
	const char *ka = key_name(a), *kb = key_name(b);
	struct rbuf out = { 0 };
	struct rreply r[5] = { 0 };
	long long t0, t1, ttl = ttl_ms(rnd), by = 0;
	char ttls[16], bys[16];
	int nrep = 1, i, err = -1;

	snprintf(ttls, sizeof(ttls), "%lld", ttl);
	new_value(v, sizeof(v), rnd);
	new_value(v2, sizeof(v2), rnd);
	switch (op) {
	case OP_SET:
		rb_cmd(&out, "SET", ka, v, NULL);
		break;
	case OP_SETPX:
		rb_cmd(&out, "SET", ka, v, "PX", ttls, NULL);
		break;
	case OP_SETNX:
		rb_cmd(&out, "SETNX", ka, v, NULL);
		break;
	case OP_SETGET:
		rb_cmd(&out, "SET", ka, v, "GET", NULL);
		break;
	case OP_MSET:
		rb_cmd(&out, "MSET", ka, v, kb, v2, NULL);
		break;
	case OP_DEL:
		rb_cmd(&out, "DEL", ka, kb, NULL);
		break;
	case OP_UNLINK:
		rb_cmd(&out, "UNLINK", ka, NULL);
		break;
	case OP_GETDEL:
		rb_cmd(&out, "GETDEL", ka, NULL);
		break;
	case OP_PEXPIRE:
		rb_cmd(&out, "PEXPIRE", ka, ttls, NULL);
		break;
	case OP_GETEX:
		rb_cmd(&out, "GETEX", ka, "PX", ttls, NULL);
		break;
	case OP_PERSIST:
		rb_cmd(&out, "PERSIST", ka, NULL);
		break;
	case OP_INCRBY:
		by = (long long)(rand_r(rnd) % 5) - 2;
		snprintf(bys, sizeof(bys), "%lld", by);
		rb_cmd(&out, "INCRBY", ka, bys, NULL);
		break;
	case OP_APPEND:
		rb_cmd(&out, "APPEND", ka, "+x", NULL);
		break;
	case OP_RENAME:
		rb_cmd(&out, "RENAME", ka, kb, NULL);
		break;
	case OP_COPY:
		rb_cmd(&out, "COPY", ka, kb, "REPLACE", NULL);
		break;
	case OP_MULTI:
		rb_cmd(&out, "MULTI", NULL);
		rb_cmd(&out, "SET", ka, v, NULL);
		rb_cmd(&out, "INCRBY", kb, "1", NULL);
		rb_cmd(&out, "EXEC", NULL);
		nrep = 4;
		break;
	case OP_EVAL_KEYS:
		rb_cmd(&out, "EVAL",
		       "redis.call('SET', KEYS[1], ARGV[1]) redis.call('DEL', KEYS[2]) return 1",
		       "2", ka, kb, v, NULL);
		break;
	case OP_EVAL_NOKEYS:
		rb_cmd(&out, "EVAL", "return redis.call('SET', ARGV[1], ARGV[2])",
		       "0", ka, v, NULL);
		break;
	case OP_FLUSHDB:
		rb_cmd(&out, "FLUSHDB", NULL);
		break;
	default:
		goto out;
	}

	sr.op = op;
	t0 = now_us();
	if (rc_send(c, out.p, out.len))
		goto out;
	for (i = 0; i < nrep; i++)
		if (rc_reply(c, &r[i]))
			goto out;
	t1 = now_us();
	sr.writes[op]++;
	if (r[nrep - 1].type == '-' && op != OP_RENAME && op != OP_INCRBY) {
		TH_LOG("%s: unexpected error reply: %s", op_names[op], r[nrep - 1].str);
		goto out;
	}
	if (r[0].type == '-')
		sr.write_errors++;

	err = 0;
	switch (op) {
	case OP_SET:
	case OP_SETGET:
	case OP_EVAL_NOKEYS:
		st_set(&sr.cur[a], v, strlen(v), 0, 0);
		record(a, t0, t1);
		break;
	case OP_SETPX:
	case OP_GETEX:
		if (op == OP_SETPX)
			st_set(&sr.cur[a], v, strlen(v), ms(t0) + ttl, ms(t1) + ttl);
		else if (r[0].nil)
			st_del(&sr.cur[a]);
		else
			st_set(&sr.cur[a], r[0].str, r[0].len, ms(t0) + ttl, ms(t1) + ttl);
		record(a, t0, t1);
		break;
	case OP_SETNX:
		if (r[0].num == 1) {
			st_set(&sr.cur[a], v, strlen(v), 0, 0);
			record(a, t0, t1);
		} else if (!alive(a, t0)) {
			err = -1;	/* the model thought it gone for sure */
			TH_LOG("SETNX %s: key exists, model says it expired", ka);
		}
		break;
	case OP_MSET:
		st_set(&sr.cur[a], v, strlen(v), 0, 0);
		st_set(&sr.cur[b], v2, strlen(v2), 0, 0);
		record(a, t0, t1);
		record(b, t0, t1);
		break;
	case OP_DEL:
	case OP_EVAL_KEYS:
		if (op == OP_EVAL_KEYS) {
			st_set(&sr.cur[a], v, strlen(v), 0, 0);
			record(a, t0, t1);
		} else {
			st_del(&sr.cur[a]);
			record(a, t0, t1);
		}
		st_del(&sr.cur[b]);
		record(b, t0, t1);
		break;
	case OP_UNLINK:
	case OP_GETDEL:
		st_del(&sr.cur[a]);
		record(a, t0, t1);
		break;
	case OP_PEXPIRE:
		if (r[0].num == 1)
			st_set(&sr.cur[a], sr.cur[a].v, sr.cur[a].len,
			       ms(t0) + ttl, ms(t1) + ttl);
		else
			st_del(&sr.cur[a]);
		if (r[0].num == 1 && !sr.cur[a].v) {
			err = -1;
			TH_LOG("PEXPIRE %s: key exists, model has none", ka);
		}
		record(a, t0, t1);
		break;
	case OP_PERSIST:
		if (r[0].num == 1 && sr.cur[a].v)
			st_set(&sr.cur[a], sr.cur[a].v, sr.cur[a].len, 0, 0);
		else if (r[0].num == 1)
			err = -1;
		else if (sr.cur[a].exp_hi)	/* had a TTL: gone now */
			st_del(&sr.cur[a]);
		/* else it exists without a TTL, or was evicted: the probe tells */
		record(a, t0, t1);
		break;
	case OP_INCRBY:
		apply_incr(a, by, &r[0], t0, t1);
		break;
	case OP_APPEND:
		if (sr.cur[a].v) {
			if (r[0].num == (long long)sr.cur[a].len + 2) {
				char *n = malloc(sr.cur[a].len + 3);

				if (!n)
					abort();
				memcpy(n, sr.cur[a].v, sr.cur[a].len);
				memcpy(n + sr.cur[a].len, "+x", 3);
				st_set(&sr.cur[a], n, sr.cur[a].len + 2,
				       sr.cur[a].exp_lo, sr.cur[a].exp_hi);
				free(n);
				record(a, t0, t1);
				break;
			}
		}
		/* a new value: the old one expired (or was evicted) first */
		if (r[0].num != 2 ||
		    (sr.cur[a].v && !sr.evicting &&
		     !(sr.cur[a].exp_lo && ms(t1) >= sr.cur[a].exp_lo))) {
			err = -1;
			TH_LOG("APPEND %s: length %lld, model length %zu", ka,
			       r[0].num, sr.cur[a].len);
		}
		st_set(&sr.cur[a], "+x", 2, 0, 0);
		record(a, t0, t1);
		break;
	case OP_RENAME:
	case OP_COPY:
		if (r[0].type == '-' || (op == OP_COPY && r[0].num == 0)) {
			st_del(&sr.cur[a]);	/* no such key (expired) */
			record(a, t0, t1);
			break;
		}
		if (!sr.cur[a].v) {
			err = -1;
			TH_LOG("%s %s: key exists, model has none", op_names[op], ka);
			break;
		}
		st_copy(&sr.cur[b], &sr.cur[a]);
		record(b, t0, t1);
		if (op == OP_RENAME) {
			st_del(&sr.cur[a]);
			record(a, t0, t1);
		}
		break;
	case OP_MULTI:
		if (r[3].type != '*' || r[3].n != 2) {
			err = -1;
			TH_LOG("EXEC: reply type %c", r[3].type);
			break;
		}
		st_set(&sr.cur[a], v, strlen(v), 0, 0);
		record(a, t0, t1);
		apply_incr(b, 1, &r[3].elem[1], t0, t1);
		break;
	case OP_FLUSHDB:
		for (i = 0; i < SR_KEYS; i++) {
			st_del(&sr.cur[i]);
			record(i, t0, t1);
		}
		break;
	default:
		break;
	}
out:
	for (i = 0; i < 5; i++)
		rr_free(&r[i]);
	free(out.p);
	return err;
}

static enum sop pick_op(unsigned int *rnd)
{
	int x = rand_r(rnd) % 100, op;

	for (op = 0; op < OP_NR - 1; op++) {
		x -= op_weight[op];
		if (x < 0)
			break;
	}
	return op;
}

/*
 * With maxmemory, Redis evicts keys when it needs room, at any command.
 * After each write the writer asks Redis which model keys still exist
 * (EXISTS is not a GET: Redis answers it). A key found gone was evicted
 * (or expired) after its last write and before the probe's reply: that is
 * recorded as a state of its own, so that a GET sent after the probe
 * returning the old value is stale.
 */
static int probe(struct rconn *c)
{
	struct rbuf out = { 0 };
	struct rreply r;
	long long t1;
	int k, err = 0;

	for (k = 0; k < SR_KEYS; k++)
		rb_cmd(&out, "EXISTS", key_name(k), NULL);
	err = rc_send(c, out.p, out.len);
	free(out.p);
	for (k = 0; k < SR_KEYS && !err; k++) {
		struct shist *h = &sr.hist[k];

		if (rc_reply(c, &r) || r.type != ':') {
			err = -1;
			break;
		}
		t1 = now_us();
		if (!r.num && sr.cur[k].v) {
			sr.evictions += !sr.cur[k].exp_hi;
			st_del(&sr.cur[k]);
			sr.op = OP_EVICTED;
			record(k, h->r[h->n - 1].ack, t1);
		}
		rr_free(&r);
	}
	return err;
}

/*
 * Fills Redis up with keys outside the model, in bursts of 20 writes a
 * second, so that it must evict. With allkeys-random Redis takes turns
 * among databases, so the model's keys in database 0 are evicted often.
 */
static void *pressure(void *arg)
{
	static char big[20000];
	struct rconn *c = rc_new();
	int *failed = arg, i = 0;
	struct rreply r0 = { 0 };

	memset(big, 'p', sizeof(big) - 1);
	/* Database 1: out of the model's way and of FLUSHDB's. */
	if (!c || rc_send(c, "*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n", 23) ||
	    rc_reply(c, &r0) || r0.type != '+') {
		*failed = 1;
		rr_free(&r0);
		rc_free(c);
		return NULL;
	}
	rr_free(&r0);
	while (!sr.stop) {
		/* Bursts, so that the cache gets to serve in between. */
		struct timespec pause = { i % 20 == 19 ? 1 : 0, 0 };
		struct rbuf out = { 0 };
		struct rreply r = { 0 };
		char key[32];

		snprintf(key, sizeof(key), "pad:%d", i++ % 200);
		rb_cmd(&out, "SET", key, big, NULL);
		if (rc_send(c, out.p, out.len) || rc_reply(c, &r) || r.type != '+')
			*failed = 1;
		free(out.p);
		rr_free(&r);
		if (*failed)
			break;
		nanosleep(&pause, NULL);
	}
	rc_free(c);
	return NULL;
}

struct worker {
	int id;
	int failed;
	struct __test_metadata *md;
};

static void *writer(void *arg)
{
	struct worker *w = arg;
	struct __test_metadata *_metadata = w->md;
	unsigned int rnd = 0x5eed + w->id;
	struct rconn *c = rc_new();

	if (!c) {
		w->failed = 1;
		return NULL;
	}
	while (!sr.stop) {
		enum sop op = pick_op(&rnd);
		struct timespec pause = { 0, (rand_r(&rnd) % 20) * 1000000L };

		pthread_mutex_lock(&sr.lock);
		if (do_write(c, op, &rnd, _metadata) ||
		    (sr.evicting && probe(c)))
			w->failed = 1;
		pthread_mutex_unlock(&sr.lock);
		if (w->failed) {
			sr.stop = 1;
			break;
		}
		nanosleep(&pause, NULL);
	}
	rc_free(c);
	return NULL;
}

/* GETs, one or two to a segment, each recorded with its send/reply times. */
static void *reader(void *arg)
{
	struct worker *w = arg;
	unsigned int rnd = 0xbeef + w->id;
	struct sget *log = sr.gets[w->id];
	struct rconn *c = rc_new();
	size_t n = 0;

	if (!c) {
		w->failed = 1;
		return NULL;
	}
	while (!sr.stop && n + 2 <= SR_GETS_MAX) {
		int k[2] = { rand_r(&rnd) % SR_KEYS, rand_r(&rnd) % SR_KEYS };
		int cnt = rand_r(&rnd) % 4 ? 1 : 2, i;
		struct rbuf out = { 0 };
		long long t0, t1;
		struct rreply r[2];

		for (i = 0; i < cnt; i++)
			rb_cmd(&out, "GET", key_name(k[i]), NULL);
		t0 = now_us();
		if (rc_send(c, out.p, out.len)) {
			free(out.p);
			w->failed = 1;
			break;
		}
		free(out.p);
		for (i = 0; i < cnt; i++)
			if (rc_reply(c, &r[i]) || r[i].type != '$') {
				w->failed = 1;
				break;
			}
		if (w->failed)
			break;
		t1 = now_us();
		for (i = 0; i < cnt; i++) {
			log[n++] = (struct sget){
				.key = k[i], .nil = r[i].nil, .len = r[i].len,
				.ts = t0, .tr = t1,
				.h = r[i].nil ? 0 : fnv(r[i].str, r[i].len),
			};
			if (!r[i].nil)
				snprintf(log[n - 1].head, sizeof(log[n - 1].head),
					 "%s", r[i].str);
			rr_free(&r[i]);
		}
		__atomic_store_n(&sr.ngets[w->id], n, __ATOMIC_RELAXED);
	}
	sr.ngets[w->id] = n;
	rc_free(c);
	return NULL;
}

/* --- the check ------------------------------------------------------------ */

/* Could state s have been what a GET running from ts to tr saw? */
static bool explains(const struct sstate *s, const struct sget *g)
{
	if (!s->v)
		return g->nil;
	if (g->nil)	/* expired (or evicted) by the time Redis ran the GET? */
		return sr.evicting || (s->exp_lo && ms(g->tr) > s->exp_lo);
	if (s->exp_hi && ms(g->ts) > s->exp_hi + 1)
		return false;
	return g->len == s->len && g->h == s->h;
}

/*
 * The states g may see: from the last write acknowledged before g was sent
 * (or the initial state) to the last one started before g was answered.
 * Writes are serialised, so both ends are found by scanning back.
 */
static bool valid(const struct shist *h, const struct sget *g, size_t *lo_out,
		  size_t *hi_out)
{
	size_t hi = h->n, lo, j;

	while (hi > 0 && h->r[hi - 1].start >= g->tr)
		hi--;
	/* h->r[0] is the initial state (written before any GET) */
	if (!hi)
		return false;
	lo = hi - 1;
	while (lo > 0 && h->r[lo].ack >= g->ts)
		lo--;
	*lo_out = lo;
	*hi_out = hi;
	for (j = lo; j < hi; j++)
		if (explains(&h->r[j].s, g))
			return true;
	return false;
}

static void report(struct __test_metadata *_metadata, const struct sget *g,
		   size_t lo, size_t hi, bool coherent)
{
	const struct shist *h = &sr.hist[g->key];
	size_t j;

	TH_LOG("%s: GET %s sent %lld.%06lld answered +%lld us: %s '%s' (%u bytes); what it may see:",
	       coherent ? "STALE" : "stale (expected)", key_name(g->key),
	       g->ts / 1000000, g->ts % 1000000, g->tr - g->ts,
	       g->nil ? "nil" : "value", g->head, g->len);
	for (j = lo > 0 ? lo - 1 : 0; j < hi + 1 && j < h->n; j++)
		TH_LOG("  %s#%zu %-12s ran %lld.%06lld +%lld us: %.16s (%zu bytes) expires %lld..%lld",
		       j >= lo && j < hi ? "" : "(not) ", j, op_names[h->r[j].op],
		       h->r[j].start / 1000000, h->r[j].start % 1000000,
		       h->r[j].ack - h->r[j].start,
		       h->r[j].s.v ? h->r[j].s.v : "nil", h->r[j].s.len,
		       h->r[j].s.exp_lo, h->r[j].s.exp_hi);
}

static long long read_sys(const char *dir, const char *name)
{
	char buf[64];

	if (!xsel_read(xsel_path("%s/%s", dir, name), buf, sizeof(buf)))
		return -1;
	return strtoll(buf, NULL, 10);
}

/* A counter of the handler under test. */
static long long read_counter(const char *name)
{
	return read_sys(SR_SYS, name);
}

#define SR_GETS_MIN	1000

/* Has the run covered what the test requires of it? */
static bool enough(long long tx0, int kernel_pct)
{
	size_t gets = 0;
	int i;

	for (i = 0; i < SR_READERS; i++)
		gets += __atomic_load_n(&sr.ngets[i], __ATOMIC_RELAXED);
	pthread_mutex_lock(&sr.lock);
	for (i = 0; i < OP_NR && sr.writes[i]; i++)
		;
	pthread_mutex_unlock(&sr.lock);
	return i == OP_NR && gets > SR_GETS_MIN &&
	       (read_counter("tx") - tx0) * 100 > (long long)gets * kernel_pct &&
	       (!sr.evicting || sr.evictions);
}

/* --- fixture: redis-server, the handler, its filler ------------------------ */

#define XPSCTL "%s/build/userspace/bin/xpsctl"

#define SR_YIELD	"/sys/module/xps/parameters/yield_us"
static char sr_yield_was[32];	/* yield_us to restore, "" if unchanged */

/*
 * Starts Redis (with @redis_args, under @redis_prefix), attaches @handler
 * (a path format with the root as its argument, or a handler name) with
 * Redis as its owner, sets yield_us to @yield_us unless NULL, and runs
 * the filler. Returns whether it loaded the module, which stack_down()
 * then unloads.
 */
static bool stack_up(struct __test_metadata *_metadata, const char *handler_fmt,
		     const char *redis_args, const char *redis_prefix,
		     const char *yield_us)
{
	char handler[PATH_MAX];
	bool loaded;
	struct stat st;
	int i;

	loaded = stat("/sys/module/xps", &st) != 0;
	if (loaded)
		EXPECT_EQ(0, xsel_sh("insmod %s/xps/xps.ko", xsel_modules()));
	xsel_sh("redis-cli -p %d shutdown nosave >/dev/null 2>&1", SR_PORT);
	EXPECT_EQ(0, xsel_sh("%s redis-server --port %d --daemonize yes --save '' --appendonly no --logfile /tmp/stale-redis.log --pidfile /tmp/stale-redis.pid %s",
			     redis_prefix, SR_PORT, redis_args));
	for (i = 0; i < 100 && xsel_sh("redis-cli -p %d ping >/dev/null 2>&1", SR_PORT); i++)
		usleep(100000);
	EXPECT_GT(100, i);
	snprintf(handler, sizeof(handler), handler_fmt, xsel_root());
	EXPECT_EQ(0, xsel_sh(XPSCTL " handler attach %s --port %d --name " SR_NAME " --owner $(cat /tmp/stale-redis.pid) >/dev/null",
			     xsel_root(), handler, SR_PORT));
	sr_yield_was[0] = '\0';
	if (yield_us) {
		EXPECT_TRUE(xsel_read(SR_YIELD, sr_yield_was, sizeof(sr_yield_was)));
		EXPECT_EQ(0, xsel_write(SR_YIELD, yield_us));
	}
	EXPECT_EQ(0, xsel_sh(XPSCTL " redis fill --name " SR_NAME " --server 127.0.0.1:%d >/tmp/stale-fill.log 2>&1 & echo $! >/tmp/stale-fill.pid",
			     xsel_root(), SR_PORT));
	return loaded;
}

static void stack_down(bool loaded_module)
{
	if (sr_yield_was[0])
		xsel_write(SR_YIELD, sr_yield_was);
	xsel_sh("kill $(cat /tmp/stale-fill.pid) 2>/dev/null; sleep 0.5");
	xsel_sh("redis-cli -p %d shutdown nosave >/dev/null 2>&1", SR_PORT);
	xsel_sh(XPSCTL " handler detach " SR_NAME " >/dev/null", xsel_root());
	if (loaded_module)
		xsel_sh("rmmod xps");
}

FIXTURE(stale) {
	bool loaded_module;
};

FIXTURE_VARIANT(stale) {
	const char *handler;	/* xpsctl attach argument, after the root */
	bool coherent;
	bool evicting;		/* maxmemory + allkeys-random, and pressure */
	int seconds;
	int kernel_pct;		/* at least this share of GETs in the kernel */
	bool write_through;	/* plain SETs must have gone write-through */
	const char *yield_us;	/* set, and some GETs must have yielded */
};

FIXTURE_VARIANT_ADD(stale, shipped_handler) {
	.handler = "redis",
	.coherent = true,
	.seconds = 12,
	.kernel_pct = 10,
	.write_through = true,
};

/* Every write may evict any key: the handler fences all of them. */
FIXTURE_VARIANT_ADD(stale, shipped_handler_with_eviction) {
	.handler = "redis",
	.coherent = true,
	.evicting = true,
	.seconds = 12,
	.kernel_pct = 2,
};

/*
 * Redis on CPU 0 with readers and writers, and answers yield as soon as it
 * waits for a CPU at all: yielded payloads keep their write fences and
 * SET write-through (XPS_MD_YIELD).
 */
FIXTURE_VARIANT_ADD(stale, shipped_handler_yielding) {
	.handler = "redis",
	.coherent = true,
	.seconds = 12,
	.kernel_pct = 2,
	.write_through = true,
	.yield_us = "1",
};

FIXTURE_VARIANT_ADD(stale, write_fences_disabled) {
	.handler = "%s/build/bpf/xps_redis_incoherent.bpf.o",
	.coherent = false,
	.seconds = 6,
	.kernel_pct = 10,
};

FIXTURE_SETUP(stale)
{
	self->loaded_module = stack_up(_metadata, variant->handler, variant->evicting ?
				       "--maxmemory 3mb --maxmemory-policy allkeys-random" : "",
				       variant->yield_us ? "taskset -c 0" : "", variant->yield_us);
	ASSERT_EQ(0, _metadata->exit_code);
}

FIXTURE_TEARDOWN(stale)
{
	stack_down(self->loaded_module);
}

TEST_F_TIMEOUT(stale, fast_path_gets_never_return_stale_values, 300)
{
	struct worker rw[SR_READERS] = { 0 }, ww[SR_WRITERS] = { 0 };
	pthread_t rt[SR_READERS], wt[SR_WRITERS], pt;
	int pressure_failed = 0;
	long long tx0, tx1, pass0, pass1, y0, y1, wt0, wt1, t;
	size_t total = 0, bad = 0, nil = 0, lo = 0, hi = 1;
	struct rconn *c = rc_new();
	unsigned int rnd = 1;
	int i, k;

	ASSERT_NE(NULL, c);
	sr.evicting = variant->evicting;
	/* Initial states: every key set, so that the first GETs can be cached. */
	pthread_mutex_lock(&sr.lock);
	ASSERT_EQ(0, do_write(c, OP_FLUSHDB, &rnd, _metadata));
	for (k = 0; k < SR_KEYS; k++) {
		char num[32];
		struct rbuf out = { 0 };
		struct rreply r;

		snprintf(num, sizeof(num), "%d", 1000 + k);
		rb_cmd(&out, "SET", key_name(k), num, NULL);
		t = now_us();
		ASSERT_EQ(0, rc_send(c, out.p, out.len));
		ASSERT_EQ(0, rc_reply(c, &r));
		st_set(&sr.cur[k], num, strlen(num), 0, 0);
		record(k, t, now_us());
		free(out.p);
		rr_free(&r);
	}
	/* The FLUSHDB record is each key's initial (empty) state. */
	sr.writes[OP_FLUSHDB] = 0;
	pthread_mutex_unlock(&sr.lock);

	tx0 = read_counter("tx");
	pass0 = read_counter("pass");
	y0 = read_counter("yielded");
	wt0 = read_sys(SR_GLOBAL, "write_through_confirmed");
	ASSERT_LE(0, tx0);
	ASSERT_LE(0, wt0);
	for (i = 0; i < SR_READERS; i++) {
		sr.gets[i] = calloc(SR_GETS_MAX, sizeof(struct sget));
		ASSERT_NE(NULL, sr.gets[i]);
		rw[i] = (struct worker){ .id = i, .md = _metadata };
		ASSERT_EQ(0, pthread_create(&rt[i], NULL, reader, &rw[i]));
	}
	for (i = 0; i < SR_WRITERS; i++) {
		ww[i] = (struct worker){ .id = i, .md = _metadata };
		ASSERT_EQ(0, pthread_create(&wt[i], NULL, writer, &ww[i]));
	}
	if (sr.evicting)
		ASSERT_EQ(0, pthread_create(&pt, NULL, pressure, &pressure_failed));
	/*
	 * At least variant->seconds, and on until the run means something
	 * (every write class ran, enough GETs, enough of them in the kernel),
	 * which takes longer on a slow (KASAN) kernel; at most five times as
	 * long, after which the expectations below fail.
	 */
	for (t = 1; t < 5 * variant->seconds; t++) {
		sleep(1);
		if (t >= variant->seconds && enough(tx0, variant->kernel_pct))
			break;
	}
	sr.stop = 1;
	if (sr.evicting)
		pthread_join(pt, NULL);
	EXPECT_EQ(0, pressure_failed);
	for (i = 0; i < SR_WRITERS; i++)
		pthread_join(wt[i], NULL);
	for (i = 0; i < SR_READERS; i++)
		pthread_join(rt[i], NULL);
	tx1 = read_counter("tx");
	pass1 = read_counter("pass");
	y1 = read_counter("yielded");
	wt1 = read_sys(SR_GLOBAL, "write_through_confirmed");

	for (i = 0; i < SR_WRITERS; i++)
		EXPECT_EQ(0, ww[i].failed);
	for (i = 0; i < SR_READERS; i++) {
		EXPECT_EQ(0, rw[i].failed);
		for (size_t j = 0; j < sr.ngets[i]; j++) {
			const struct sget *g = &sr.gets[i][j];

			total++;
			nil += g->nil;
			if (valid(&sr.hist[g->key], g, &lo, &hi))
				continue;
			if (bad++ < 5)
				report(_metadata, g, lo, hi, variant->coherent);
		}
	}
	{
		char line[1024];
		int n = 0;

		for (i = 0; i < OP_NR; i++)
			n += snprintf(line + n, sizeof(line) - n, "%s%s %lu",
				      i ? ", " : "", op_names[i], sr.writes[i]);
		TH_LOG("writes: %s", line);
	}
	TH_LOG("%zu GETs (%zu nil), %lld answered by the kernel, %lld passed (%lld yielding to Redis); %zu inconsistent; %lu evictions of model keys seen; %lld SETs written through",
	       total, nil, tx1 - tx0, pass1 - pass0, y1 - y0, bad, sr.evictions, wt1 - wt0);
	if (variant->yield_us)
		EXPECT_LT(0, y1 - y0);
	if (variant->write_through)
		EXPECT_LT(0, wt1 - wt0);
	if (sr.evicting)
		EXPECT_LT(0, sr.evictions);
	/* Every write class ran, and the kernel answered a real share of GETs. */
	for (i = 0; i < OP_NR; i++)
		if (!sr.writes[i]) {
			TH_LOG("no %s ran", op_names[i]);
			EXPECT_LT(0, sr.writes[i]);
		}
	EXPECT_LT(SR_GETS_MIN, total);
	EXPECT_LT(total * variant->kernel_pct / 100, (size_t)(tx1 - tx0));
	if (variant->coherent) {
		EXPECT_EQ(0, bad);
	} else {
		EXPECT_LT(0, bad);
	}
	rc_free(c);
}

/* --- write-through on its own -------------------------------------------- */

FIXTURE(wt) {
	bool loaded_module;
	struct rconn *c[3];
};

FIXTURE_SETUP(wt)
{
	int i;

	self->loaded_module = stack_up(_metadata, "redis", "", "", NULL);
	ASSERT_EQ(0, _metadata->exit_code);
	for (i = 0; i < 3; i++) {
		self->c[i] = rc_new();
		ASSERT_NE(NULL, self->c[i]);
	}
}

FIXTURE_TEARDOWN(wt)
{
	int i;

	for (i = 0; i < 3; i++)
		rc_free(self->c[i]);
	stack_down(self->loaded_module);
}

/* Sends one command (NULL-terminated arguments) without reading. */
#define wt_send(c, ...) ({						\
	struct rbuf out_ = { 0 };					\
	int ret_;							\
									\
	rb_cmd(&out_, __VA_ARGS__, NULL);				\
	ret_ = rc_send(c, out_.p, out_.len);				\
	free(out_.p);							\
	ret_;								\
})

/* One command and its reply: the reply's first string ("" for nil, "?" on error). */
static void wt_cmd(struct rconn *c, char *out, size_t cap, const char *cmd,
		   const char *key, const char *val)
{
	struct rreply r;

	/* rb_cmd() ends the arguments at the first NULL. */
	snprintf(out, cap, "?");
	if (wt_send(c, cmd, key, val) || rc_reply(c, &r))
		return;
	if (r.type == '*' && r.n)
		snprintf(out, cap, "%s", r.elem[0].str ? r.elem[0].str : "");
	else if (r.type == '-')
		snprintf(out, cap, "-%s", r.str);
	else
		snprintf(out, cap, "%s", r.str ? r.str : "");
	rr_free(&r);
}

/*
 * Until a GET on @c is answered by the kernel: the filler runs and has
 * taken a token, which retires the fences its own start-up left.
 */
static int wt_warm(struct rconn *c)
{
	char v[64];
	int i;

	wt_cmd(c, v, sizeof(v), "SET", "wt:warm", "1");
	for (i = 0; i < 100; i++) {
		long long tx = read_counter("tx");

		wt_cmd(c, v, sizeof(v), "GET", "wt:warm", NULL);
		if (strcmp(v, "1"))
			return -1;
		if (read_counter("tx") > tx)
			return 0;
		usleep(50000);
	}
	return -1;
}

TEST_F(wt, set_is_answered_after_its_ok)
{
	long long tx, ok;
	char v[64];

	ASSERT_EQ(0, wt_warm(self->c[1]));
	ok = read_sys(SR_GLOBAL, "write_through_confirmed");
	wt_cmd(self->c[0], v, sizeof(v), "SET", "wt:k", "first");
	ASSERT_STREQ("OK", v);
	EXPECT_EQ(ok + 1, read_sys(SR_GLOBAL, "write_through_confirmed"));
	/* On another connection, at once: the kernel has it, no refill. */
	tx = read_counter("tx");
	wt_cmd(self->c[1], v, sizeof(v), "GET", "wt:k", NULL);
	EXPECT_STREQ("first", v);
	EXPECT_EQ(tx + 1, read_counter("tx"));
	/* The next value, the other way round. */
	wt_cmd(self->c[1], v, sizeof(v), "SET", "wt:k", "second");
	ASSERT_STREQ("OK", v);
	tx = read_counter("tx");
	wt_cmd(self->c[0], v, sizeof(v), "GET", "wt:k", NULL);
	EXPECT_STREQ("second", v);
	EXPECT_EQ(tx + 1, read_counter("tx"));
	EXPECT_EQ(ok + 2, read_sys(SR_GLOBAL, "write_through_confirmed"));
}

/* CONFIG SET maxmemory @bytes: the reply's type, 0 if none. */
static char wt_maxmemory(struct rconn *c, const char *bytes)
{
	struct rreply r;
	char type;

	if (wt_send(c, "CONFIG", "SET", "maxmemory", bytes) || rc_reply(c, &r))
		return 0;
	type = r.type;
	rr_free(&r);
	return type;
}

TEST_F(wt, refused_set_is_never_answered)
{
	long long voided;
	char v[128];
	int i;

	ASSERT_EQ(0, wt_warm(self->c[1]));
	wt_cmd(self->c[0], v, sizeof(v), "SET", "wt:f", "old");
	ASSERT_STREQ("OK", v);
	/* Out of memory for every write (noeviction): SET answers -OOM. */
	ASSERT_EQ('+', wt_maxmemory(self->c[2], "1"));
	/* The connection's next payload retires its CONFIG's fence on all. */
	wt_cmd(self->c[2], v, sizeof(v), "PING", NULL, NULL);
	ASSERT_STREQ("PONG", v);
	voided = read_sys(SR_GLOBAL, "write_through_voided");
	wt_cmd(self->c[0], v, sizeof(v), "SET", "wt:f", "new");
	EXPECT_EQ(0, strncmp(v, "-OOM", 4)) TH_LOG("SET answered %s", v);
	EXPECT_EQ(voided + 1, read_sys(SR_GLOBAL, "write_through_voided"));
	/* Whoever answers, kernel or Redis: the value Redis kept. */
	for (i = 0; i < 50; i++) {
		wt_cmd(self->c[1], v, sizeof(v), "GET", "wt:f", NULL);
		ASSERT_STREQ("old", v);
		usleep(10000);
	}
	ASSERT_EQ('+', wt_maxmemory(self->c[2], "0"));
}

/*
 * A write Redis applies after the SET although it came before it: a SET
 * queued in a transaction, executed after another connection's SET of the
 * same key was answered. The later SET's value must not be served once
 * the transaction ran (write-through needs no other pending write).
 */
TEST_F(wt, queued_write_is_not_overtaken)
{
	char v[64], want[32];
	int round, i;

	ASSERT_EQ(0, wt_warm(self->c[2]));
	for (round = 0; round < 5; round++) {
		snprintf(want, sizeof(want), "queued%d", round);
		wt_cmd(self->c[1], v, sizeof(v), "MULTI", NULL, NULL);
		ASSERT_STREQ("OK", v);
		wt_cmd(self->c[1], v, sizeof(v), "SET", "wt:m", want);
		ASSERT_STREQ("QUEUED", v);
		wt_cmd(self->c[0], v, sizeof(v), "SET", "wt:m", "direct");
		ASSERT_STREQ("OK", v);
		wt_cmd(self->c[1], v, sizeof(v), "EXEC", NULL, NULL);
		ASSERT_STREQ("OK", v);
		/* Its next payload retires the transaction's fence at once. */
		wt_cmd(self->c[1], v, sizeof(v), "PING", NULL, NULL);
		ASSERT_STREQ("PONG", v);
		for (i = 0; i < 20; i++) {
			wt_cmd(self->c[2], v, sizeof(v), "GET", "wt:m", NULL);
			ASSERT_STREQ(want, v) TH_LOG("round %d, GET %d", round, i);
			usleep(20000);
		}
	}
}

TEST_HARNESS_MAIN
