/* SPDX-License-Identifier: GPL-2.0 */
/*
 * RESP request parser of the XPS Redis handler (bpf/xps_redis.bpf.c),
 * shared with user space (libxps, the host unit tests). Header-only, no
 * libc, bounded loops: the same code runs under the BPF verifier.
 *
 * A Redis client sends commands as RESP arrays of bulk strings,
 *
 *   *<argc>\r\n  $<len>\r\n<len bytes>\r\n  ... (argc bulk strings)
 *
 * and nothing else but "inline" commands (a text line), which this parser
 * does not take apart. The parser reads a payload of @total bytes through
 * a window of at most XPS_RESP_WIN bytes that the caller fills (BPF:
 * bpf_xps_load() into a map value), and is driven one step at a time:
 *
 *	xps_resp_init(&p, total);
 *	for (;;) {
 *		ev = xps_resp_step(&p, win);
 *		if (ev & XPS_RESP_EV_REFILL)	load [p.want, ...) into win,
 *						xps_resp_window(&p, p.want, n)
 *		if (ev & XPS_RESP_EV_KEY)	a key of the command at
 *						[p.arg_off, + p.arg_len)
 *		if (ev & XPS_RESP_EV_CMD)	a whole command, p.cmd_len bytes
 *		if (ev & (END | PARTIAL | MALFORMED | INLINE))	stop
 *	}
 *
 * One step is one array header or one bulk string: bulk data is skipped,
 * not read, except the command name, the keys a handler needs and a few
 * option words. Each step needs XPS_RESP_LOOK bytes (or up to the end of
 * the payload) in the window and asks for a refill otherwise; when a step
 * reports an element, its first XPS_RESP_SEEN data bytes are in the
 * window. Offsets (pos, arg_off, ...) are payload offsets; the window is
 * read at (offset - base) masked to the window size, which keeps every
 * read inside a window of XPS_RESP_WIN bytes whatever the state says
 * (what the verifier needs), and the parser reads only bytes it was told
 * are there (what the host tests check under ASan).
 *
 * The parser is at least as strict as Redis (networking.c): whatever it
 * accepts, Redis parses the same way; what Redis rejects, or what it
 * cannot vouch for, is MALFORMED (the handler passes the payload, and
 * Redis answers a protocol error).
 *
 * Commands are classified by name (case-insensitive) into an id, a class
 * that says what they may do to the data, where their keys are, and which
 * options change that. Only commands surely without writes are READ.
 *
 * The key hash (xps_resp_slot()) is 32-bit FNV-1a over the key's bytes,
 * reduced to the module's write-fence slots (XPS_SLOTS).
 */
#ifndef _XPS_RESP_H
#define _XPS_RESP_H

#include "parse.h"

#define XPS_RESP_WIN		2048U	/* window size, a power of two */
#define XPS_RESP_SEEN		64U	/* element bytes seen in the window */
#define XPS_RESP_LOOK		96U	/* header (<= 16) + SEEN + CRLF */
#define XPS_RESP_NAME_MAX	24U	/* longest command name known */
#define XPS_RESP_NUM_SPAN	14U	/* '*'/'$', '-', 11 digits, CR */
#define XPS_RESP_BULK_MAX	0x20000000U	/* Redis proto-max-bulk-len */
#define XPS_RESP_ARGC_MAX	0x7fffffffU	/* Redis: INT_MAX */

/* xps_resp_step() events (several may come together) */
#define XPS_RESP_EV_KEY		0x01U	/* a key: arg_off, arg_len */
#define XPS_RESP_EV_CMD		0x02U	/* a command ended: spec, cmd_len */
#define XPS_RESP_EV_END		0x04U	/* the payload ended after a command */
#define XPS_RESP_EV_PARTIAL	0x08U	/* it ends inside one: need */
#define XPS_RESP_EV_MALFORMED	0x10U	/* not RESP that Redis accepts */
#define XPS_RESP_EV_INLINE	0x20U	/* an inline command (not parsed) */
#define XPS_RESP_EV_REFILL	0x40U	/* load the window from want */
#define XPS_RESP_EV_STOP	0x3cU	/* END, PARTIAL, MALFORMED, INLINE */

/* What a command may do. */
enum xps_resp_class {
	XPS_RESP_C_GET = 1,	/* GET: the fast-path candidate */
	XPS_RESP_C_READ,	/* surely no write, no connection state */
	XPS_RESP_C_WRITE,	/* writes its keys only (see xps_resp_keys) */
	XPS_RESP_C_ALL,		/* may write anything (unknown commands too) */
	XPS_RESP_C_MULTI,	/* MULTI: writes queue until EXEC */
	XPS_RESP_C_EXEC,	/* EXEC, DISCARD: the queue is applied/dropped */
	XPS_RESP_C_SELECT,	/* SELECT: the connection's database */
	XPS_RESP_C_BLOCK,	/* may block, or acts later (CLIENT PAUSE...) */
	XPS_RESP_C_CONN,	/* changes how the connection is answered */
};

/* Where a WRITE command's keys are (element 0 is the name). */
enum xps_resp_keys {
	XPS_RESP_K_NONE = 0,
	XPS_RESP_K_FIRST,	/* element 1 */
	XPS_RESP_K_FIRST2,	/* elements 1 and 2 */
	XPS_RESP_K_ALL,		/* elements 1 .. argc - 1 */
	XPS_RESP_K_ODD,		/* elements 1, 3, 5, ... (MSET) */
};

/* Options that change a command's class. */
#define XPS_RESP_F_SCANDB	0x1U	/* "DB n" (COPY): -> ALL */
#define XPS_RESP_F_SCANBLOCK	0x2U	/* "BLOCK ms" (XREAD): -> BLOCK */

/* What the parser found in a command's arguments (p->cflags). */
#define XPS_RESP_CF_DB		0x1U	/* a "DB" argument */
#define XPS_RESP_CF_BLOCK	0x2U	/* a "BLOCK" argument */
#define XPS_RESP_CF_SEL0	0x4U	/* SELECT's argument is "0" */

/* Packed option words (xps_resp_pack8() of the upper-cased bytes). */
#define XPS_RESP_W_DB		0x4244ULL		/* "DB" */
#define XPS_RESP_W_BLOCK	0x4b434f4c42ULL		/* "BLOCK" */
#define XPS_RESP_W_0		0x30ULL			/* "0" */

/*
 * A command the parser knows. Its id (xps_resp_spec_id()) is its index in
 * xps_resp_cmds[] plus XPS_RESP_ID_FIRST; a name not listed is
 * XPS_RESP_ID_UNKNOWN, class ALL.
 */
struct xps_resp_cmd {
	union {
		char name[XPS_RESP_NAME_MAX];	/* upper case, zero-padded */
		__u64 w[XPS_RESP_NAME_MAX / 8];
	};
	__u8 cls;	/* enum xps_resp_class */
	__u8 keys;	/* enum xps_resp_keys */
	__u8 flags;	/* XPS_RESP_F_* */
};

#define XPS_RESP_ID_UNKNOWN	0U
#define XPS_RESP_ID_EMPTY	1U	/* "*0\r\n", "*-1\r\n": Redis skips it */
#define XPS_RESP_ID_FIRST	2U
#define XPS_RESP_ID_SET		(XPS_RESP_ID_FIRST + 93U)	/* "SET" */
#define XPS_RESP_NCMDS		221U	/* entries of xps_resp_cmds[] */

static const struct xps_resp_cmd xps_resp_cmds[XPS_RESP_NCMDS] = {
	/* the fast-path candidate */
	{ { "GET" }, XPS_RESP_C_GET, XPS_RESP_K_FIRST, 0 },
	/* surely without writes */
	{ { "PING" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "ECHO" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "EXISTS" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "TTL" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "PTTL" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "TYPE" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "STRLEN" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "MGET" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "GETRANGE" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "SUBSTR" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "EXPIRETIME" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "PEXPIRETIME" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "DBSIZE" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "INFO" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "TIME" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "SCAN" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "KEYS" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "RANDOMKEY" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "LASTSAVE" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "TOUCH" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "DUMP" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "LCS" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "GETBIT" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "BITCOUNT" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "BITPOS" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "BITFIELD_RO" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "HGET" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "HMGET" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "HGETALL" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "HKEYS" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "HVALS" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "HLEN" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "HEXISTS" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "HSTRLEN" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "HSCAN" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "HRANDFIELD" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "LRANGE" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "LLEN" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "LINDEX" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "LPOS" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "SMEMBERS" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "SISMEMBER" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "SMISMEMBER" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "SCARD" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "SSCAN" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "SRANDMEMBER" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "SINTER" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "SUNION" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "SDIFF" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "SINTERCARD" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "ZRANGE" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "ZRANGEBYSCORE" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "ZRANGEBYLEX" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "ZREVRANGE" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "ZREVRANGEBYSCORE" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "ZREVRANGEBYLEX" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "ZSCORE" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "ZMSCORE" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "ZRANK" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "ZREVRANK" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "ZCARD" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "ZCOUNT" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "ZLEXCOUNT" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "ZSCAN" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "ZRANDMEMBER" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "ZINTER" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "ZUNION" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "ZDIFF" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "ZINTERCARD" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "GEOPOS" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "GEODIST" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "GEOHASH" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "GEOSEARCH" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "GEORADIUS_RO" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "GEORADIUSBYMEMBER_RO" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "XRANGE" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "XREVRANGE" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "XLEN" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "XINFO" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "XPENDING" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "XREAD" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, XPS_RESP_F_SCANBLOCK },
	{ { "SORT_RO" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "OBJECT" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "WATCH" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "UNWATCH" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "AUTH" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "COMMAND" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "ROLE" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "PUBLISH" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "SPUBLISH" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "PUBSUB" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	{ { "LOLWUT" }, XPS_RESP_C_READ, XPS_RESP_K_NONE, 0 },
	/* writes of the key in element 1 */
	{ { "SET" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "SETNX" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "SETEX" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "PSETEX" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "GETSET" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "GETDEL" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "GETEX" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "INCR" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "DECR" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "INCRBY" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "DECRBY" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "INCRBYFLOAT" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "APPEND" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "SETRANGE" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "SETBIT" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "BITFIELD" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "EXPIRE" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "PEXPIRE" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "EXPIREAT" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "PEXPIREAT" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "PERSIST" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "MOVE" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "RESTORE" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "LPUSH" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "RPUSH" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "LPUSHX" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "RPUSHX" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "LPOP" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "RPOP" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "LSET" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "LREM" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "LTRIM" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "LINSERT" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "HSET" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "HSETNX" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "HMSET" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "HDEL" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "HINCRBY" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "HINCRBYFLOAT" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "SADD" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "SREM" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "SPOP" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "ZADD" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "ZREM" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "ZINCRBY" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "ZPOPMIN" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "ZPOPMAX" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "ZREMRANGEBYSCORE" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "ZREMRANGEBYRANK" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "ZREMRANGEBYLEX" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "ZUNIONSTORE" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "ZINTERSTORE" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "ZDIFFSTORE" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "SINTERSTORE" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "SUNIONSTORE" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "SDIFFSTORE" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "PFADD" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "XADD" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "XDEL" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "XTRIM" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "XACK" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "XCLAIM" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "XAUTOCLAIM" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "XSETID" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	{ { "GEOADD" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST, 0 },
	/* writes of the keys in elements 1 and 2 */
	{ { "RENAME" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST2, 0 },
	{ { "RENAMENX" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST2, 0 },
	{ { "COPY" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST2, XPS_RESP_F_SCANDB },
	{ { "SMOVE" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST2, 0 },
	{ { "LMOVE" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST2, 0 },
	{ { "RPOPLPUSH" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST2, 0 },
	{ { "ZRANGESTORE" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST2, 0 },
	{ { "GEOSEARCHSTORE" }, XPS_RESP_C_WRITE, XPS_RESP_K_FIRST2, 0 },
	/* writes of every argument, or of every other one */
	{ { "DEL" }, XPS_RESP_C_WRITE, XPS_RESP_K_ALL, 0 },
	{ { "UNLINK" }, XPS_RESP_C_WRITE, XPS_RESP_K_ALL, 0 },
	{ { "PFCOUNT" }, XPS_RESP_C_WRITE, XPS_RESP_K_ALL, 0 },
	{ { "PFMERGE" }, XPS_RESP_C_WRITE, XPS_RESP_K_ALL, 0 },
	{ { "MSET" }, XPS_RESP_C_WRITE, XPS_RESP_K_ODD, 0 },
	{ { "MSETNX" }, XPS_RESP_C_WRITE, XPS_RESP_K_ODD, 0 },
	/* transactions, databases */
	{ { "MULTI" }, XPS_RESP_C_MULTI, XPS_RESP_K_NONE, 0 },
	{ { "EXEC" }, XPS_RESP_C_EXEC, XPS_RESP_K_NONE, 0 },
	{ { "DISCARD" }, XPS_RESP_C_EXEC, XPS_RESP_K_NONE, 0 },
	{ { "SELECT" }, XPS_RESP_C_SELECT, XPS_RESP_K_NONE, 0 },
	/* may block, or make writes happen at a time nobody sees */
	{ { "BLPOP" }, XPS_RESP_C_BLOCK, XPS_RESP_K_NONE, 0 },
	{ { "BRPOP" }, XPS_RESP_C_BLOCK, XPS_RESP_K_NONE, 0 },
	{ { "BLMOVE" }, XPS_RESP_C_BLOCK, XPS_RESP_K_NONE, 0 },
	{ { "BRPOPLPUSH" }, XPS_RESP_C_BLOCK, XPS_RESP_K_NONE, 0 },
	{ { "BZPOPMIN" }, XPS_RESP_C_BLOCK, XPS_RESP_K_NONE, 0 },
	{ { "BZPOPMAX" }, XPS_RESP_C_BLOCK, XPS_RESP_K_NONE, 0 },
	{ { "BLMPOP" }, XPS_RESP_C_BLOCK, XPS_RESP_K_NONE, 0 },
	{ { "BZMPOP" }, XPS_RESP_C_BLOCK, XPS_RESP_K_NONE, 0 },
	{ { "WAIT" }, XPS_RESP_C_BLOCK, XPS_RESP_K_NONE, 0 },
	{ { "WAITAOF" }, XPS_RESP_C_BLOCK, XPS_RESP_K_NONE, 0 },
	{ { "CLIENT" }, XPS_RESP_C_BLOCK, XPS_RESP_K_NONE, 0 },
	{ { "XREADGROUP" }, XPS_RESP_C_ALL, XPS_RESP_K_NONE, XPS_RESP_F_SCANBLOCK },
	/* change what the connection is answered, or whether */
	{ { "SUBSCRIBE" }, XPS_RESP_C_CONN, XPS_RESP_K_NONE, 0 },
	{ { "PSUBSCRIBE" }, XPS_RESP_C_CONN, XPS_RESP_K_NONE, 0 },
	{ { "SSUBSCRIBE" }, XPS_RESP_C_CONN, XPS_RESP_K_NONE, 0 },
	{ { "MONITOR" }, XPS_RESP_C_CONN, XPS_RESP_K_NONE, 0 },
	{ { "RESET" }, XPS_RESP_C_CONN, XPS_RESP_K_NONE, 0 },
	{ { "HELLO" }, XPS_RESP_C_CONN, XPS_RESP_K_NONE, 0 },
	{ { "QUIT" }, XPS_RESP_C_CONN, XPS_RESP_K_NONE, 0 },
	{ { "SYNC" }, XPS_RESP_C_CONN, XPS_RESP_K_NONE, 0 },
	{ { "PSYNC" }, XPS_RESP_C_CONN, XPS_RESP_K_NONE, 0 },
	{ { "REPLCONF" }, XPS_RESP_C_CONN, XPS_RESP_K_NONE, 0 },
	{ { "READONLY" }, XPS_RESP_C_CONN, XPS_RESP_K_NONE, 0 },
	{ { "READWRITE" }, XPS_RESP_C_CONN, XPS_RESP_K_NONE, 0 },
	/* may write anything (listed for statistics: unknown is ALL) */
	{ { "FLUSHALL" }, XPS_RESP_C_ALL, XPS_RESP_K_NONE, 0 },
	{ { "FLUSHDB" }, XPS_RESP_C_ALL, XPS_RESP_K_NONE, 0 },
	{ { "SWAPDB" }, XPS_RESP_C_ALL, XPS_RESP_K_NONE, 0 },
	{ { "EVAL" }, XPS_RESP_C_ALL, XPS_RESP_K_NONE, 0 },
	{ { "EVALSHA" }, XPS_RESP_C_ALL, XPS_RESP_K_NONE, 0 },
	{ { "EVAL_RO" }, XPS_RESP_C_ALL, XPS_RESP_K_NONE, 0 },
	{ { "EVALSHA_RO" }, XPS_RESP_C_ALL, XPS_RESP_K_NONE, 0 },
	{ { "FCALL" }, XPS_RESP_C_ALL, XPS_RESP_K_NONE, 0 },
	{ { "FCALL_RO" }, XPS_RESP_C_ALL, XPS_RESP_K_NONE, 0 },
	{ { "SCRIPT" }, XPS_RESP_C_ALL, XPS_RESP_K_NONE, 0 },
	{ { "FUNCTION" }, XPS_RESP_C_ALL, XPS_RESP_K_NONE, 0 },
	{ { "CONFIG" }, XPS_RESP_C_ALL, XPS_RESP_K_NONE, 0 },
	{ { "DEBUG" }, XPS_RESP_C_ALL, XPS_RESP_K_NONE, 0 },
	{ { "SORT" }, XPS_RESP_C_ALL, XPS_RESP_K_NONE, 0 },
	{ { "BITOP" }, XPS_RESP_C_ALL, XPS_RESP_K_NONE, 0 },
	{ { "LMPOP" }, XPS_RESP_C_ALL, XPS_RESP_K_NONE, 0 },
	{ { "ZMPOP" }, XPS_RESP_C_ALL, XPS_RESP_K_NONE, 0 },
	{ { "GEORADIUS" }, XPS_RESP_C_ALL, XPS_RESP_K_NONE, 0 },
	{ { "GEORADIUSBYMEMBER" }, XPS_RESP_C_ALL, XPS_RESP_K_NONE, 0 },
	{ { "XGROUP" }, XPS_RESP_C_ALL, XPS_RESP_K_NONE, 0 },
	{ { "MIGRATE" }, XPS_RESP_C_ALL, XPS_RESP_K_NONE, 0 },
};

/* A command's spec: id, class, keys and options in one word. */
static inline __u32 xps_resp_spec(__u32 id, __u32 cls, __u32 keys, __u32 fl)
{
	return id | cls << 16 | keys << 20 | fl << 24;
}

#define XPS_RESP_SPEC_UNKNOWN	(XPS_RESP_C_ALL << 16)
#define XPS_RESP_SPEC_EMPTY	(XPS_RESP_ID_EMPTY | XPS_RESP_C_READ << 16)

static inline __u32 xps_resp_spec_id(__u32 spec)
{
	return spec & 0xffff;
}

static inline __u32 xps_resp_spec_class(__u32 spec)
{
	return (spec >> 16) & 0xf;
}

static inline __u32 xps_resp_spec_keys(__u32 spec)
{
	return (spec >> 20) & 0xf;
}

static inline __u32 xps_resp_spec_flags(__u32 spec)
{
	return spec >> 24;
}

/*
 * The spec of the command whose upper-cased name, zero-padded, is the
 * words w0 w1 w2 (a name without zero bytes). One test per entry, on a
 * value the compiler cannot take apart, keeps the BPF verifier's work
 * linear in the number of names.
 */
static __always_inline __u32 xps_resp_lookup(__u64 w0, __u64 w1, __u64 w2)
{
	__u32 i;

	for (i = 0; i < XPS_RESP_NCMDS; i++) {
		const struct xps_resp_cmd *c = &xps_resp_cmds[i];
		__u64 d = (c->w[0] ^ w0) | (c->w[1] ^ w1) | (c->w[2] ^ w2);

		if (!xps_opaque(d))
			return xps_resp_spec(XPS_RESP_ID_FIRST + i, c->cls,
					     c->keys, c->flags);
	}
	return XPS_RESP_SPEC_UNKNOWN;
}

static __always_inline __u64 xps_resp_upper(__u64 c)
{
	if (c >= 'a' && c <= 'z')
		c -= 'a' - 'A';
	return c;
}

/* The spec of command name [name, name + len) (any case). */
static inline __u32 xps_resp_classify(const void *name, __u32 len)
{
	const unsigned char *s = (const unsigned char *)name;
	__u64 w[3] = { 0, 0, 0 };
	__u32 i;

	if (!len || len > XPS_RESP_NAME_MAX)
		return XPS_RESP_SPEC_UNKNOWN;
	for (i = 0; i < len; i++) {
		if (!s[i])
			return XPS_RESP_SPEC_UNKNOWN;
		w[i / 8] |= xps_resp_upper(s[i]) << (8 * (i % 8));
	}
	return xps_resp_lookup(w[0], w[1], w[2]);
}

/* The command's name, for statistics and tests; "?" if unknown. */
static inline const char *xps_resp_name(__u32 id)
{
	if (id == XPS_RESP_ID_EMPTY)
		return "(empty)";
	if (id < XPS_RESP_ID_FIRST || id - XPS_RESP_ID_FIRST >= XPS_RESP_NCMDS)
		return "?";
	return xps_resp_cmds[id - XPS_RESP_ID_FIRST].name;
}

/* ---- the key hash ----------------------------------------------------- */

#define XPS_RESP_FNV_BASIS	2166136261U
#define XPS_RESP_FNV_PRIME	16777619U

static __always_inline __u32 xps_resp_fnv(__u32 h, __u32 c)
{
	return (h ^ (c & 0xff)) * XPS_RESP_FNV_PRIME;
}

#define XPS_RESP_FNV64_BASIS	14695981039346656037ULL
#define XPS_RESP_FNV64_PRIME	1099511628211ULL

static __always_inline __u64 xps_resp_fnv64(__u64 h, __u32 c)
{
	return (h ^ (c & 0xff)) * XPS_RESP_FNV64_PRIME;
}

/*
 * The tag of a key: FNV-1a 64 of its bytes. A cache entry stores its
 * fence token XORed with its key's tag, so that a hash-map element reused
 * for another key while a handler copies it (preallocated BPF hash maps
 * recycle elements at once) cannot pass for this key's entry just because
 * both slots happen to have the same token.
 */
static inline __u64 xps_resp_tag(const void *key, __u32 len)
{
	const unsigned char *s = (const unsigned char *)key;
	__u64 h = XPS_RESP_FNV64_BASIS;
	__u32 i;

	for (i = 0; i < len; i++)
		h = xps_resp_fnv64(h, s[i]);
	return h;
}

/* The write-fence slot of a key: FNV-1a 32 of its bytes, mod XPS_SLOTS. */
static inline __u32 xps_resp_slot(const void *key, __u32 len)
{
	const unsigned char *s = (const unsigned char *)key;
	__u32 h = XPS_RESP_FNV_BASIS, i;

	for (i = 0; i < len; i++)
		h = xps_resp_fnv(h, s[i]);
	return h & (XPS_SLOTS - 1);
}

/* ---- the parser --------------------------------------------------------- */

/* The window, as a type (BPF global functions need their arguments' size). */
struct xps_resp_win {
	__u8 b[XPS_RESP_WIN];
};

struct xps_resp_parser {
	/* input */
	__u32 pos;	/* next byte to parse */
	__u32 total;	/* payload bytes */
	__u32 base;	/* payload offset of window byte 0 */
	__u32 wlen;	/* bytes in the window */
	__u32 want;	/* EV_REFILL: load the window from here */
	/* the command being parsed (or the last one, after EV_CMD) */
	__u32 cmd_off;	/* where it starts */
	__u32 argc;	/* elements it announced */
	__u32 argi;	/* elements parsed so far */
	__u32 seen;	/* elements whose data was looked at */
	__u32 spec;	/* xps_resp_spec() from its name */
	__u32 cflags;	/* XPS_RESP_CF_* */
	__u32 nkeys;	/* EV_KEY reported for it */
	__u32 cmd_len;	/* EV_CMD: its bytes */
	/* the last element */
	__u32 arg_off;
	__u32 arg_len;
	/* the last step */
	__u32 ev;	/* XPS_RESP_EV_* */
	/* EV_PARTIAL: bytes after the payload until the command ends */
	__u32 need;	/* 0 if unknown */
	/* scratch of xps_resp_num() and of the name's lookup */
	__u64 w[3];
	__u32 hlen;
	__u64 num;
	__u32 neg;
	__u32 pad;
};

static inline void xps_resp_init(struct xps_resp_parser *p, __u32 total)
{
	__builtin_memset(p, 0, sizeof(*p));
	p->total = total;
	p->spec = XPS_RESP_SPEC_UNKNOWN;
}

/* The window now holds payload bytes [base, base + wlen). */
static inline void xps_resp_window(struct xps_resp_parser *p, __u32 base,
				   __u32 wlen)
{
	p->base = base;
	p->wlen = wlen;
}

/* Payload byte at offset off, which the caller knows is in the window. */
static __always_inline __u32 xps_resp_at(const struct xps_resp_parser *p,
					 const __u8 *win, __u32 off)
{
	return win[(off - p->base) & (XPS_RESP_WIN - 1)];
}

/*
 * Bytes off .. off + min(n, 8) - 1, upper-cased, as xps_resp_lookup()
 * wants them; a zero byte makes it ~0 (no name has one).
 */
static __always_inline __u64 xps_resp_pack8(const struct xps_resp_parser *p,
					    const __u8 *win, __u32 off,
					    __u32 n)
{
	__u64 w = 0, c;
	__u32 i;

	for (i = 0; i < 8; i++) {
		if (i >= n)
			break;
		c = xps_resp_at(p, win, off + i);
		if (!c)
			return ~0ULL;
		w |= xps_resp_upper(c) << (8 * i);
	}
	return w;
}

#define XPS_RESP_NUM_OK		0
#define XPS_RESP_NUM_SHORT	1	/* the payload ends first */
#define XPS_RESP_NUM_BAD	2

/*
 * The number after the type byte at pos, as Redis' string2ll() takes it
 * (no '+', no leading zeros, "-" only where neg_ok, at most 11 digits),
 * then CR LF. look bytes from pos are in the window. Sets p->num, p->neg
 * and p->hlen (type byte through LF).
 */
static __always_inline int xps_resp_num(struct xps_resp_parser *p,
					const __u8 *win, __u32 pos,
					__u32 look, __u32 neg_ok)
{
	__u32 i, digits = 0, neg = 0, lead0 = 0;
	__u64 v = 0;

	for (i = 1; i < XPS_RESP_NUM_SPAN; i++) {
		__u32 c;

		if (i >= look)
			return XPS_RESP_NUM_SHORT;
		c = xps_resp_at(p, win, pos + i);
		if (c == '\r') {
			if (!digits || (neg && lead0))
				return XPS_RESP_NUM_BAD;
			if (i + 1 >= look)
				return XPS_RESP_NUM_SHORT;
			if (xps_resp_at(p, win, pos + i + 1) != '\n')
				return XPS_RESP_NUM_BAD;
			p->num = v;
			p->neg = neg;
			p->hlen = i + 2;
			return XPS_RESP_NUM_OK;
		}
		if (c == '-' && i == 1 && neg_ok) {
			neg = 1;
			continue;
		}
		if (c < '0' || c > '9' || lead0)
			return XPS_RESP_NUM_BAD;
		if (c == '0' && !digits)
			lead0 = 1;
		v = v * 10 + (c - '0');
		digits++;
	}
	return XPS_RESP_NUM_BAD;
}

static __always_inline __u32 xps_resp_ret(struct xps_resp_parser *p, __u32 ev)
{
	p->ev = ev;
	return ev;
}

/* Whether element argi of a command with spec and argc is a key it writes. */
static __always_inline int xps_resp_is_key(__u32 spec, __u32 argc,
					   __u32 argi)
{
	if (xps_resp_spec_class(spec) != XPS_RESP_C_WRITE || !argi)
		return 0;
	switch (xps_resp_spec_keys(spec)) {
	case XPS_RESP_K_FIRST:
		return argi == 1;
	case XPS_RESP_K_FIRST2:
		return argi <= 2;
	case XPS_RESP_K_ALL:
		return argi < argc;
	case XPS_RESP_K_ODD:
		return argi & 1;
	}
	return 0;
}

/*
 * Element p->argi's data [data, data + len) is in the payload (its first
 * XPS_RESP_SEEN bytes in the window): classify the name, note options,
 * report keys. whole: its CRLF is in the payload too.
 */
static __always_inline __u32 xps_resp_element(struct xps_resp_parser *p,
					      const __u8 *win, __u32 data,
					      __u32 len, __u32 whole)
{
	__u32 argi = p->argi, spec = p->spec, cls, fl, ev = 0;
	__u64 w;

	p->seen = argi + 1;
	if (!argi) {
		if (!len || len > XPS_RESP_NAME_MAX) {
			p->spec = XPS_RESP_SPEC_UNKNOWN;
			return 0;
		}
		p->w[0] = xps_resp_pack8(p, win, data, len);
		p->w[1] = len > 8 ? xps_resp_pack8(p, win, data + 8, len - 8) : 0;
		p->w[2] = len > 16 ? xps_resp_pack8(p, win, data + 16, len - 16) : 0;
		/* Only the words matter from here: the verifier may forget how
		 * they were made.
		 */
		xps_forget();
		p->spec = xps_resp_lookup(p->w[0], p->w[1], p->w[2]);
		return 0;
	}
	cls = xps_resp_spec_class(spec);
	fl = xps_resp_spec_flags(spec);
	if (cls == XPS_RESP_C_GET) {
		/* A GET is answerable only whole, with exactly one key. */
		if (argi == 1 && p->argc == 2 && whole)
			ev = XPS_RESP_EV_KEY;
	} else if (xps_resp_is_key(spec, p->argc, argi)) {
		p->nkeys++;
		ev = XPS_RESP_EV_KEY;
	}
	if (len <= 8 && (fl || cls == XPS_RESP_C_SELECT)) {
		w = xps_resp_pack8(p, win, data, len);
		if ((fl & XPS_RESP_F_SCANDB) && argi >= 3 && len == 2 &&
		    w == XPS_RESP_W_DB)
			p->cflags |= XPS_RESP_CF_DB;
		if ((fl & XPS_RESP_F_SCANBLOCK) && len == 5 &&
		    w == XPS_RESP_W_BLOCK)
			p->cflags |= XPS_RESP_CF_BLOCK;
		if (cls == XPS_RESP_C_SELECT && argi == 1 && len == 1 &&
		    w == XPS_RESP_W_0)
			p->cflags |= XPS_RESP_CF_SEL0;
	}
	return ev;
}

/*
 * One step: an array header or one bulk string. Returns XPS_RESP_EV_*
 * (also in p->ev); 0 means "go on".
 */
static __always_inline __u32 xps_resp_step(struct xps_resp_parser *p,
					   const __u8 *win)
{
	__u32 pos = p->pos, total = p->total, look, c, data, len, ev;
	__u64 end;
	int r;

	p->ev = 0;
	p->need = 0;
	if (p->argi >= p->argc && pos >= total)
		return xps_resp_ret(p, XPS_RESP_EV_END);
	look = pos < total ? total - pos : 0;
	if (look > XPS_RESP_LOOK)
		look = XPS_RESP_LOOK;
	if (pos < p->base || pos - p->base > p->wlen ||
	    look > p->wlen - (pos - p->base)) {
		p->want = pos;
		return xps_resp_ret(p, XPS_RESP_EV_REFILL);
	}
	if (!look)
		return xps_resp_ret(p, XPS_RESP_EV_PARTIAL);
	c = xps_resp_at(p, win, pos);

	if (p->argi >= p->argc) {
		/* A new command. */
		p->cmd_off = pos;
		p->argc = 0;
		p->argi = 0;
		p->seen = 0;
		p->spec = XPS_RESP_SPEC_UNKNOWN;
		p->cflags = 0;
		p->nkeys = 0;
		if (c != '*')
			return xps_resp_ret(p, XPS_RESP_EV_INLINE);
		r = xps_resp_num(p, win, pos, look, 1);
		xps_forget();
		if (r == XPS_RESP_NUM_SHORT)
			return xps_resp_ret(p, XPS_RESP_EV_PARTIAL);
		if (r != XPS_RESP_NUM_OK)
			return xps_resp_ret(p, XPS_RESP_EV_MALFORMED);
		if (p->neg || !p->num) {
			/* Redis skips an empty array without a reply. */
			p->spec = XPS_RESP_SPEC_EMPTY;
			p->pos = pos + p->hlen;
			p->cmd_len = p->hlen;
			return xps_resp_ret(p, XPS_RESP_EV_CMD);
		}
		if (p->num > XPS_RESP_ARGC_MAX)
			return xps_resp_ret(p, XPS_RESP_EV_MALFORMED);
		p->argc = (__u32)p->num;
		p->pos = pos + p->hlen;
		return xps_resp_ret(p, 0);
	}

	/* Element argi: a bulk string. */
	if (c != '$')
		return xps_resp_ret(p, XPS_RESP_EV_MALFORMED);
	r = xps_resp_num(p, win, pos, look, 0);
	xps_forget();
	if (r == XPS_RESP_NUM_SHORT)
		return xps_resp_ret(p, XPS_RESP_EV_PARTIAL);
	if (r != XPS_RESP_NUM_OK || p->num > XPS_RESP_BULK_MAX)
		return xps_resp_ret(p, XPS_RESP_EV_MALFORMED);
	data = pos + p->hlen;
	len = (__u32)p->num;
	end = (__u64)data + len + 2;	/* Redis skips the CRLF unread */
	p->arg_off = data;
	p->arg_len = len;
	ev = 0;
	if ((__u64)data + len <= total)
		ev = xps_resp_element(p, win, data, len, end <= total);
	xps_forget();
	if (end > total) {
		if (p->argi + 1 == p->argc)
			p->need = (__u32)(end - total);
		return xps_resp_ret(p, ev | XPS_RESP_EV_PARTIAL);
	}
	p->argi++;
	p->pos = (__u32)end;
	if (p->argi == p->argc) {
		p->cmd_len = (__u32)end - p->cmd_off;
		ev |= XPS_RESP_EV_CMD;
	}
	return xps_resp_ret(p, ev);
}

/*
 * The class the current command acts as, given its options: whole, once
 * EV_CMD came; otherwise (EV_PARTIAL) what the unseen rest may say is
 * assumed. XPS_RESP_C_ALL if its name was not seen.
 */
static inline __u32 xps_resp_effective(const struct xps_resp_parser *p,
				       int whole)
{
	__u32 cls = xps_resp_spec_class(p->spec);
	__u32 fl = xps_resp_spec_flags(p->spec);

	if (!whole && !p->seen)
		return XPS_RESP_C_ALL;
	if ((fl & XPS_RESP_F_SCANBLOCK) &&
	    (!whole || (p->cflags & XPS_RESP_CF_BLOCK)))
		return XPS_RESP_C_BLOCK;
	if ((fl & XPS_RESP_F_SCANDB) && (!whole || (p->cflags & XPS_RESP_CF_DB)))
		return XPS_RESP_C_ALL;
	return cls;
}

/*
 * After EV_PARTIAL: whether every key the command writes was reported
 * (element seen and later ones hold no key).
 */
static inline int xps_resp_keys_seen(const struct xps_resp_parser *p)
{
	__u32 next = p->seen, argc = p->argc;

	switch (xps_resp_spec_keys(p->spec)) {
	case XPS_RESP_K_FIRST:
		return next > 1;
	case XPS_RESP_K_FIRST2:
		return next > 2;
	case XPS_RESP_K_ALL:
		return next >= argc;
	case XPS_RESP_K_ODD:
		return next >= argc || (!(next & 1) && next + 1 >= argc);
	}
	return 1;
}

#endif /* _XPS_RESP_H */
