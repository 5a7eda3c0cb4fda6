// SPDX-License-Identifier: GPL-2.0
/*
 * XPS: the fast-path hook and the xps module, driven with the line-protocol
 * handler bpf/xps_ping.bpf.c (PING answered in the kernel, DROP, RESET,
 * "T <slot>" reports a fence token, "W <slot>" fences a write, HOLD /
 * RELEASE / FOREVER hold fences) attached with xpsctl on port 7777.
 *
 * The "application" is a thread that answers every line it reads with
 * "APP:<line>\n", after an optional delay, and can be paused (it then
 * reads nothing), so the tests see what reached user space and in which
 * order replies left.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "xsel.h"

#define PORT		7777
#define HTTP_PORT	7778	/* the http handler's, IPv4 */
#define NGINX_PORT	7779	/* Debian's nginx behind the http handler */
#define OWNED_PORT	7780	/* a ping handler with an owner process */
#define YIELD_PORT	7781	/* one whose owner is starved of CPU */
#define YIELD_PARAM	"/sys/module/xps/parameters/yield_us"
#define NGINX_DIR	"/tmp/xps-nginx"
#define PIN		"/sys/fs/bpf/xps/ping"
#define SYS		"/sys/kernel/xps"

struct app {
	int lfd4, lfd6, lfd_http;
	volatile int paused;
	volatile int hold_reply;	/* read, but do not answer yet */
	volatile int lines;		/* lines the application read */
	volatile int stop;
	pthread_t thr;
};

/*
 * Shared with the test processes: the harness forks one per test, while
 * the application threads live in the parent.
 */
static struct app *app;

static long long stat_of(const char *name)
{
	char buf[64];

	if (!xsel_read(xsel_path(SYS "/handlers/ping/%s", name), buf, sizeof(buf)))
		return -1;
	return atoll(buf);
}

static void *conn_thread(void *arg)
{
	int fd = (long)arg;
	char buf[4096], line[512];
	size_t ll = 0;

	for (;;) {
		ssize_t n, i;

		while (app->paused && !app->stop)
			usleep(5000);
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (i = 0; i < n; i++) {
			char out[600];
			int len;

			if (buf[i] != '\n') {
				if (ll < sizeof(line) - 1)
					line[ll++] = buf[i];
				continue;
			}
			line[ll] = '\0';
			ll = 0;
			__sync_fetch_and_add(&app->lines, 1);
			while (app->hold_reply && !app->stop)
				usleep(5000);
			len = snprintf(out, sizeof(out), "APP:%s\n", line);
			if (write(fd, out, len) != len)
				break;
		}
	}
	close(fd);
	return NULL;
}

static void *app_thread(void *arg)
{
	struct pollfd p[3] = { { .fd = app->lfd4, .events = POLLIN },
			       { .fd = app->lfd6, .events = POLLIN },
			       { .fd = app->lfd_http, .events = POLLIN } };

	while (!app->stop) {
		int i;

		if (poll(p, 3, 100) <= 0)
			continue;
		for (i = 0; i < 3; i++) {
			pthread_t t;
			int fd;

			if (!(p[i].revents & POLLIN))
				continue;
			fd = accept(p[i].fd, NULL, NULL);
			if (fd < 0)
				continue;
			pthread_create(&t, NULL, conn_thread, (void *)(long)fd);
			pthread_detach(t);
		}
	}
	return NULL;
}

/* The loopback address of family, port: its length. */
static socklen_t loopback(int family, int port, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *a6 = (void *)ss;
	struct sockaddr_in *a4 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		a6->sin6_addr = in6addr_loopback;
		return sizeof(*a6);
	}
	a4->sin_family = AF_INET;
	a4->sin_port = htons(port);
	a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sizeof(*a4);
}

static int listen_on(int family, int port)
{
	int one = 1, fd = socket(family, SOCK_STREAM, 0);
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, port, &ss);

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (void *)&ss, len))
		return -1;
	return listen(fd, 64) ? -1 : fd;
}

static int dial_port(int family, int port)
{
	int one = 1, fd = socket(family, SOCK_STREAM, 0);
	struct timeval tv = { .tv_sec = 5 };
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, port, &ss);
	int err;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (void *)&ss, len)) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static int dial(int family)
{
	return dial_port(family, PORT);
}

/* Read until want bytes arrived (or timeout); returns bytes read. */
static int recv_n(int fd, char *buf, int want)
{
	int got = 0;

	while (got < want) {
		int n = read(fd, buf + got, want - got);

		/* system() in another thread: its SIGCHLD can land here. */
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	buf[got] = '\0';
	return got;
}

static int send_s(int fd, const char *s)
{
	ssize_t n;

	do
		n = write(fd, s, strlen(s));
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

#define HTTP_POST	"POST /form HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
#define HTTP_PUT	"PUT /x HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"

/*
 * Send @req on a new IPv4 connection to @port and read up to @len bytes
 * of the answer into @buf (NUL-terminated). Returns the bytes read, or
 * -errno when the connection failed or the first read did (a reset).
 */
static int http_ask(int port, const char *req, char *buf, int len)
{
	int fd = dial_port(AF_INET, port), n, err;

	if (fd < 0)
		return -errno;
	if (send_s(fd, req)) {
		err = errno;
		close(fd);
		return -err;
	}
	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	err = errno;
	if (n > 0 && n < len)
		n += recv_n(fd, buf + n, len - n);
	else if (n >= 0)
		buf[n] = '\0';
	close(fd);
	return n < 0 ? -err : n;
}

/* Attach and detach with the project's tool, as a user would. */
static int attach(void)
{
	return xsel_sh("%s/build/userspace/bin/xpsctl handler attach %s/build/bpf/xps_ping.bpf.o >/dev/null",
		       xsel_root(), xsel_root()) ||
	       access(PIN, F_OK) || access(SYS "/handlers/ping", F_OK) ? -1 : 0;
}

static int detach(void)
{
	return xsel_sh("%s/build/userspace/bin/xpsctl handler detach ping >/dev/null",
		       xsel_root());
}

static int world_up(void)
{
	struct stat st;

	app = mmap(NULL, sizeof(*app), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (app == MAP_FAILED)
		return -1;
	xsel_sh("rm -rf " PIN);
	if (stat("/sys/module/xps", &st) == 0 && xsel_sh("rmmod xps"))
		return -1;
	if (xsel_sh("insmod %s/xps/xps.ko", xsel_modules()))
		return -1;
	if (attach())
		return -1;
	app->lfd4 = listen_on(AF_INET, PORT);
	app->lfd6 = listen_on(AF_INET6, PORT);
	app->lfd_http = listen_on(AF_INET, HTTP_PORT);
	if (app->lfd4 < 0 || app->lfd6 < 0 || app->lfd_http < 0)
		return -1;
	return pthread_create(&app->thr, NULL, app_thread, NULL);
}

FIXTURE(xps) {
	int fd;
};

FIXTURE_SETUP(xps)
{
	app->paused = 0;
	app->hold_reply = 0;
	self->fd = dial(AF_INET);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(xps)
{
	app->hold_reply = 0;
	app->paused = 0;
	close(self->fd);
}

TEST_F(xps, ping_answered_in_kernel_without_waking_the_application)
{
	long long tx = stat_of("tx");
	int lines = app->lines;
	char buf[64];

	ASSERT_EQ(0, send_s(self->fd, "PING\n"));
	ASSERT_EQ(7, recv_n(self->fd, buf, 7));
	EXPECT_STREQ("+PONG\r\n", buf);
	EXPECT_EQ(lines, app->lines);
	EXPECT_EQ(tx + 1, stat_of("tx"));
}

TEST_F(xps, other_input_reaches_the_application_untouched)
{
	char buf[64];

	ASSERT_EQ(0, send_s(self->fd, "HELLO\n"));
	ASSERT_EQ(10, recv_n(self->fd, buf, 10));
	EXPECT_STREQ("APP:HELLO\n", buf);
	/* And the fast path still works afterwards. */
	ASSERT_EQ(0, send_s(self->fd, "PING\n"));
	ASSERT_EQ(7, recv_n(self->fd, buf, 7));
	EXPECT_STREQ("+PONG\r\n", buf);
}

TEST_F(xps, pipelined_requests_in_one_segment)
{
	char buf[64];

	ASSERT_EQ(0, send_s(self->fd, "PING\nPING\nPING\n"));
	ASSERT_EQ(21, recv_n(self->fd, buf, 21));
	EXPECT_STREQ("+PONG\r\n+PONG\r\n+PONG\r\n", buf);
}

TEST_F(xps, mixed_segment_goes_to_the_application_whole)
{
	char buf[64];

	ASSERT_EQ(0, send_s(self->fd, "PING\nHELLO\n"));
	ASSERT_EQ(19, recv_n(self->fd, buf, 19));
	EXPECT_STREQ("APP:PING\nAPP:HELLO\n", buf);
}

TEST_F(xps, drop_is_silent)
{
	long long drop = stat_of("drop");
	int lines = app->lines;
	char buf[64];

	ASSERT_EQ(0, send_s(self->fd, "DROP\n"));
	usleep(100000);
	ASSERT_EQ(0, send_s(self->fd, "PING\n"));
	ASSERT_EQ(7, recv_n(self->fd, buf, 7));
	EXPECT_STREQ("+PONG\r\n", buf);
	EXPECT_EQ(lines, app->lines);
	EXPECT_EQ(drop + 1, stat_of("drop"));
}

TEST_F(xps, reset_closes_the_connection)
{
	char buf[64];
	int n;

	ASSERT_EQ(0, send_s(self->fd, "RESET\n"));
	n = read(self->fd, buf, sizeof(buf));
	EXPECT_EQ(-1, n);
	EXPECT_EQ(ECONNRESET, errno);
}

/* A fast reply never overtakes one the application still owes. */
TEST_F(xps, fast_reply_waits_for_the_application)
{
	char buf[64];

	int i, lines = app->lines;

	/* The application has read HELLO and owes its reply... */
	app->hold_reply = 1;
	ASSERT_EQ(0, send_s(self->fd, "HELLO\n"));
	for (i = 0; i < 500 && app->lines == lines; i++)
		usleep(10000);
	ASSERT_EQ(lines + 1, app->lines);
	/* ...when PING arrives: it must go to the application too. */
	ASSERT_EQ(0, send_s(self->fd, "PING\n"));
	usleep(200000);
	app->hold_reply = 0;
	EXPECT_EQ(19, recv_n(self->fd, buf, 19));
	EXPECT_STREQ("APP:HELLO\nAPP:PING\n", buf);
}

TEST_F(xps, split_request_goes_to_the_application)
{
	char buf[64];

	ASSERT_EQ(0, send_s(self->fd, "PI"));
	usleep(100000);
	ASSERT_EQ(0, send_s(self->fd, "NG\n"));
	ASSERT_EQ(9, recv_n(self->fd, buf, 9));
	EXPECT_STREQ("APP:PING\n", buf);
}

TEST_F(xps, ipv6)
{
	int fd = dial(AF_INET6);
	char buf[64];

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_s(fd, "PING\n"));
	ASSERT_EQ(7, recv_n(fd, buf, 7));
	EXPECT_STREQ("+PONG\r\n", buf);
	close(fd);
}

static char token_of(int fd, int slot)
{
	char q[32], buf[16];

	snprintf(q, sizeof(q), "T %d\n", slot);
	if (send_s(fd, q) || recv_n(fd, buf, 6) != 6 || strncmp(buf, "+T ", 3))
		return '?';
	return buf[3];
}

/* A write fence is pending until the application has read the write. */
TEST_F(xps, write_fence_pending_until_read)
{
	int w = dial(AF_INET), r = dial(AF_INET);
	char buf[64];

	ASSERT_LE(0, w);
	ASSERT_LE(0, r);
	EXPECT_EQ('1', token_of(r, 5));
	app->paused = 1;
	ASSERT_EQ(0, send_s(w, "W 5\n"));
	usleep(100000);
	EXPECT_EQ('0', token_of(r, 5));
	EXPECT_EQ('1', token_of(r, 6));
	app->paused = 0;
	ASSERT_EQ(8, recv_n(w, buf, 8));	/* APP:W 5 */
	/* Retired when the writer's connection moves on. */
	ASSERT_EQ(0, send_s(w, "HELLO\n"));
	ASSERT_EQ(10, recv_n(w, buf, 10));
	EXPECT_EQ('1', token_of(r, 5));
	close(w);
	close(r);
}

/* Held fences (a transaction) outlive the read until released. */
TEST_F(xps, held_fence_waits_for_release)
{
	int w = dial(AF_INET), r = dial(AF_INET);
	char buf[64];

	ASSERT_LE(0, w);
	ASSERT_LE(0, r);
	ASSERT_EQ(0, send_s(w, "HOLD\nW 9\n"));
	ASSERT_EQ(17, recv_n(w, buf, 17));
	ASSERT_EQ(0, send_s(w, "HELLO\n"));
	ASSERT_EQ(10, recv_n(w, buf, 10));
	EXPECT_EQ('0', token_of(r, 9));
	ASSERT_EQ(0, send_s(w, "RELEASE\n"));
	ASSERT_EQ(12, recv_n(w, buf, 12));
	ASSERT_EQ(0, send_s(w, "HELLO\n"));
	ASSERT_EQ(10, recv_n(w, buf, 10));
	EXPECT_EQ('1', token_of(r, 9));
	close(w);
	close(r);
}

/* A connection's fences retire when it goes away, even unread. */
TEST_F(xps, fences_retire_when_the_connection_is_destroyed)
{
	int w = dial(AF_INET), r = dial(AF_INET);
	char buf[64];

	ASSERT_LE(0, w);
	ASSERT_LE(0, r);
	ASSERT_EQ(0, send_s(w, "FOREVER\nW all\n"));
	ASSERT_EQ(22, recv_n(w, buf, 22));
	EXPECT_EQ('0', token_of(r, 11));
	close(w);
	usleep(300000);
	EXPECT_EQ('1', token_of(r, 11));
	close(r);
}

TEST_F(xps, unprivileged_users_cannot_attach)
{
	char out[4096];
	int rc;

	rc = xsel_capture(out, sizeof(out), "setpriv --reuid=65534 --regid=65534 --clear-groups %s/build/userspace/bin/xpsctl handler attach %s/build/bpf/xps_ping.bpf.o --name nobody 2>&1",
			  xsel_root(), xsel_root());
	EXPECT_NE(0, rc);
	/* Refused for the privilege, with a message that says so. */
	EXPECT_TRUE(strstr(out, "root") || strstr(out, "not permitted"))
		TH_LOG("xpsctl said: %s", out);
	EXPECT_NE(0, access(SYS "/handlers/nobody", F_OK));
	EXPECT_NE(0, access("/sys/fs/bpf/xps/nobody", F_OK));
}

/* The shipped HTTP filter: POST refused in the kernel, PUT reset, GET on. */
TEST_F(xps, http_filter_refuses_post_resets_put_passes_get)
{
	const char *x = "%s/build/userspace/bin/xpsctl";
	char buf[256];
	int lines;

	ASSERT_EQ(0, xsel_sh("%s handler attach http --port %d >/dev/null",
			     xsel_path(x, xsel_root()), HTTP_PORT));

	lines = app->lines;
	ASSERT_EQ(12, http_ask(HTTP_PORT, HTTP_POST, buf, 12));
	EXPECT_STREQ("HTTP/1.1 405", buf);
	EXPECT_EQ(lines, app->lines);	/* the server never saw it */
	EXPECT_EQ(-ECONNRESET, http_ask(HTTP_PORT, HTTP_PUT, buf, sizeof(buf) - 1));
	ASSERT_EQ(7, http_ask(HTTP_PORT, "GET / HTTP/1.1\r\nHost: t\r\n\r\n", buf, 7));
	EXPECT_STREQ("APP:GET", buf);

	EXPECT_EQ(0, xsel_sh("%s handler detach http >/dev/null", xsel_path(x, xsel_root())));
}

/* The number of lines of the nginx access log that contain @what. */
static int nginx_logged(const char *what)
{
	char out[32];

	if (xsel_capture(out, sizeof(out), "grep -c '%s' " NGINX_DIR "/access.log", what) < 0)
		return -1;
	return atoi(out);
}

/*
 * The same filter in front of Debian's nginx, which would answer every
 * method with 200 itself: a 405 can only come from the kernel, and
 * nginx's access log shows what reached it.
 */
TEST_F(xps, http_filter_in_front_of_nginx)
{
	const char *x = "%s/build/userspace/bin/xpsctl";
	char buf[256];
	int fd, i;

	if (xsel_sh("command -v nginx >/dev/null"))
		SKIP(return, "nginx is not installed (make deps installs nginx-light)");
	ASSERT_EQ(0, xsel_sh("rm -rf " NGINX_DIR " && mkdir -p " NGINX_DIR "/tmp && cat >" NGINX_DIR "/nginx.conf <<'EOF'\n"
			     "daemon on; pid nginx.pid; error_log error.log; user root;\n"
			     "events { worker_connections 64; }\n"
			     "http { access_log access.log; client_body_temp_path tmp;\n"
			     "  server { listen 127.0.0.1:%d;\n"
			     "    location / { default_type text/plain; return 200 \"nginx\\n\"; } } }\n"
			     "EOF", NGINX_PORT));
	ASSERT_EQ(0, xsel_sh("nginx -p " NGINX_DIR "/ -c " NGINX_DIR "/nginx.conf"));
	for (i = 0; i < 50 && (fd = dial_port(AF_INET, NGINX_PORT)) < 0; i++)
		usleep(100000);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, xsel_sh("%s handler attach http --port %d --name nginx >/dev/null",
			     xsel_path(x, xsel_root()), NGINX_PORT));

	ASSERT_EQ(12, http_ask(NGINX_PORT, HTTP_POST, buf, 12));
	EXPECT_STREQ("HTTP/1.1 405", buf);
	EXPECT_EQ(-ECONNRESET, http_ask(NGINX_PORT, HTTP_PUT, buf, sizeof(buf) - 1));
	ASSERT_LT(12, http_ask(NGINX_PORT, "GET /page HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
			       buf, sizeof(buf) - 1));
	EXPECT_EQ(0, strncmp(buf, "HTTP/1.1 200", 12));
	EXPECT_NE(NULL, strstr(buf, "\r\n\r\nnginx\n"));

	EXPECT_EQ(1, nginx_logged("\"GET /page"));
	EXPECT_EQ(0, nginx_logged("\"POST"));
	EXPECT_EQ(0, nginx_logged("\"PUT"));
	EXPECT_EQ(0, xsel_sh("%s handler detach nginx >/dev/null", xsel_path(x, xsel_root())));
	xsel_sh("nginx -p " NGINX_DIR "/ -c " NGINX_DIR "/nginx.conf -s stop 2>/dev/null");
}

static long long handler_counter(const char *name, const char *what)
{
	char buf[64];

	if (!xsel_read(xsel_path(SYS "/handlers/%s/%s", name, what), buf, sizeof(buf)))
		return -1;
	return atoll(buf);
}

/* A child that only sleeps until killed. */
static pid_t sleeper(void)
{
	pid_t pid = fork();

	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	return pid;
}

/* Kill and reap @pid; the CPU time it used, in microseconds (-1: error). */
static long long reap_cpu_us(pid_t pid)
{
	struct rusage ru;
	int st;

	kill(pid, SIGKILL);
	if (wait4(pid, &st, 0, &ru) != pid)
		return -1;
	return ru.ru_utime.tv_sec * 1000000LL + ru.ru_utime.tv_usec +
	       ru.ru_stime.tv_sec * 1000000LL + ru.ru_stime.tv_usec;
}

/*
 * A handler's CPU time is charged to the process it works for: a tick's
 * worth at a time while it runs, the rest at detach. The owner only
 * sleeps, like a twin that owns nothing; what wait4() reports for the
 * owner beyond the twin is what was charged.
 */
TEST_F_TIMEOUT(xps, handler_time_is_charged_to_its_owner, 300)
{
	const char *x = "%s/build/userspace/bin/xpsctl";
	long long cpu, charged, used_us, twin_us;
	pid_t owner = sleeper(), twin = sleeper();
	int lfd, fd, i;
	char buf[16];

	ASSERT_LT(0, owner);
	ASSERT_LT(0, twin);
	EXPECT_NE(0, xsel_sh("%s handler attach %s/build/bpf/xps_ping.bpf.o --name owned --port %d --owner 999999 2>/dev/null",
			     xsel_path(x, xsel_root()), xsel_root(), OWNED_PORT));
	ASSERT_EQ(0, xsel_sh("%s handler attach %s/build/bpf/xps_ping.bpf.o --name owned --port %d --owner %d >/dev/null",
			     xsel_path(x, xsel_root()), xsel_root(), OWNED_PORT, owner));
	EXPECT_EQ(owner, handler_counter("owned", "owner_pid"));
	lfd = listen_on(AF_INET, OWNED_PORT);
	ASSERT_LE(0, lfd);
	fd = dial_port(AF_INET, OWNED_PORT);
	ASSERT_LE(0, fd);
	/*
	 * Handler time well above what the owner could use itself (its fork
	 * and pause, a few ms under TCG), and more than a tick's worth.
	 */
	for (i = 0; i < 50000 && handler_counter("owned", "cpu_ns") < 50000000; i++) {
		ASSERT_EQ(0, send_s(fd, "PING\n"));
		ASSERT_EQ(7, recv_n(fd, buf, 7));
		ASSERT_STREQ("+PONG\r\n", buf);
	}
	close(fd);
	close(lfd);
	cpu = handler_counter("owned", "cpu_ns");
	charged = handler_counter("owned", "charged_ns");
	TH_LOG("%d PINGs: handler %lld ns, %lld ns charged while attached", i, cpu, charged);
	EXPECT_LT(0, charged);
	EXPECT_LE(charged, cpu);
	ASSERT_EQ(0, xsel_sh("%s handler detach owned >/dev/null", xsel_path(x, xsel_root())));

	used_us = reap_cpu_us(owner);
	twin_us = reap_cpu_us(twin);
	TH_LOG("CPU time of the owner %lld us, of its twin %lld us", used_us, twin_us);
	/* All of it by detach (us rounding), plus what the owner used itself. */
	EXPECT_LE(cpu / 1000 - 1, used_us);
	EXPECT_GT(cpu / 1000 + twin_us + 20000, used_us);
}

static void on_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/*
 * The owner for the yield test: one process, one thread, on CPU 1, that
 * answers every line on the connections it accepts "APP:<line>\n".
 */
static pid_t line_server(int lfd)
{
	struct pollfd p[8] = { { .fd = lfd, .events = POLLIN } };
	char buf[512], out[600];
	pid_t pid = fork();
	int n = 1, i;

	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	on_cpu(1);
	for (;;) {
		if (poll(p, n, -1) <= 0)
			continue;
		if ((p[0].revents & POLLIN) && n < 8) {
			p[n].fd = accept(lfd, NULL, NULL);
			p[n++].events = POLLIN;
		}
		for (i = 1; i < n; i++) {
			char *line, *save = NULL;
			ssize_t r;

			if (!(p[i].revents & POLLIN))
				continue;
			r = read(p[i].fd, buf, sizeof(buf) - 1);
			if (r <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				continue;
			}
			buf[r] = '\0';
			for (line = strtok_r(buf, "\n", &save); line;
			     line = strtok_r(NULL, "\n", &save)) {
				int len = snprintf(out, sizeof(out), "APP:%s\n", line);

				if (write(p[i].fd, out, len) != len)
					_exit(1);
			}
		}
	}
}

/*
 * A SCHED_FIFO spinner on CPU 1 for @ms (under the default RT runtime of
 * 950 ms a second, so never throttled): the owner there gets no CPU.
 * Returns once it spins.
 */
static pid_t cpu_hog(int ms)
{
	struct sched_param sp = { .sched_priority = 50 };
	struct timespec t0, t;
	int pfd[2];
	pid_t pid;
	char c;

	if (pipe(pfd))
		return -1;
	pid = fork();
	if (!pid) {
		on_cpu(1);
		if (sched_setscheduler(0, SCHED_FIFO, &sp))
			_exit(1);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (write(pfd[1], "x", 1) != 1)
			_exit(1);
		do
			clock_gettime(CLOCK_MONOTONIC, &t);
		while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], &c, 1) != 1) {
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(pfd[0]);
	return pid;
}

/* Wait until @pid's state (/proc/PID/stat) is @state; 0 when it is. */
static int wait_state(pid_t pid, char state)
{
	char buf[512], *p;
	int i;

	for (i = 0; i < 500; i++) {
		if (xsel_read(xsel_path("/proc/%d/stat", pid), buf, sizeof(buf))) {
			p = strrchr(buf, ')');
			if (p && p[1] == ' ' && p[2] == state)
				return 0;
		}
		usleep(10000);
	}
	return -1;
}

static int hog_done(pid_t hog)
{
	int st;

	return waitpid(hog, &st, 0) == hog && WIFEXITED(st) && !WEXITSTATUS(st);
}

/* a passes HELLO to the owner, which then owes; 50 ms later b sends PING. */
static int ping_while_owing(int a, int b)
{
	if (send_s(a, "HELLO\n"))
		return -1;
	usleep(50000);
	return send_s(b, "PING\n");
}

/*
 * Answers yield to a starved owner. Connection a passes HELLO to the
 * owner while a real-time spinner holds the owner's CPU; 50 ms later a
 * PING on connection b, which owes nothing, goes to the owner too
 * (yielded), not to the kernel. With the owner stopped (not starved: it
 * could not run anyway) or with yield_us=0, the same PING is answered in
 * the kernel while the owner still owes HELLO's reply.
 */
TEST_F_TIMEOUT(xps, answers_yield_to_a_starved_owner, 300)
{
	const char *x = "%s/build/userspace/bin/xpsctl";
	char buf[64], old[32] = "500";
	long long y0;
	pid_t owner, hog;
	int lfd, a, b;

	xsel_read(YIELD_PARAM, old, sizeof(old));
	ASSERT_EQ(0, xsel_write(YIELD_PARAM, "2000"));
	on_cpu(0);
	lfd = listen_on(AF_INET, YIELD_PORT);
	ASSERT_LE(0, lfd);
	owner = line_server(lfd);
	ASSERT_LT(0, owner);
	ASSERT_EQ(0, xsel_sh("%s handler attach %s/build/bpf/xps_ping.bpf.o --name yield --port %d --owner %d >/dev/null",
			     xsel_path(x, xsel_root()), xsel_root(), YIELD_PORT, owner));
	a = dial_port(AF_INET, YIELD_PORT);
	b = dial_port(AF_INET, YIELD_PORT);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, send_s(b, "PING\n"));
	ASSERT_EQ(7, recv_n(b, buf, 7));
	ASSERT_STREQ("+PONG\r\n", buf);

	/* Starved: b's PING waits for the owner with a's HELLO. */
	y0 = handler_counter("yield", "yielded");
	hog = cpu_hog(600);
	ASSERT_LT(0, hog);
	ASSERT_EQ(0, ping_while_owing(a, b));
	EXPECT_EQ(9, recv_n(b, buf, 9));
	EXPECT_STREQ("APP:PING\n", buf);
	EXPECT_TRUE(hog_done(hog));
	EXPECT_EQ(10, recv_n(a, buf, 10));
	EXPECT_STREQ("APP:HELLO\n", buf);
	EXPECT_EQ(y0 + 1, handler_counter("yield", "yielded"));

	/* Nothing owed: the kernel answers again. */
	ASSERT_EQ(0, send_s(b, "PING\n"));
	EXPECT_EQ(7, recv_n(b, buf, 7));
	EXPECT_STREQ("+PONG\r\n", buf);

	/* Stopped is not starved. */
	ASSERT_EQ(0, kill(owner, SIGSTOP));
	ASSERT_EQ(0, wait_state(owner, 'T'));
	ASSERT_EQ(0, ping_while_owing(a, b));
	EXPECT_EQ(7, recv_n(b, buf, 7));
	EXPECT_STREQ("+PONG\r\n", buf);
	ASSERT_EQ(0, kill(owner, SIGCONT));
	EXPECT_EQ(10, recv_n(a, buf, 10));
	EXPECT_STREQ("APP:HELLO\n", buf);

	/* yield_us=0: answered while the owner starves (the spinner runs). */
	ASSERT_EQ(0, xsel_write(YIELD_PARAM, "0"));
	hog = cpu_hog(600);
	ASSERT_LT(0, hog);
	ASSERT_EQ(0, ping_while_owing(a, b));
	EXPECT_EQ(7, recv_n(b, buf, 7));
	EXPECT_STREQ("+PONG\r\n", buf);
	EXPECT_EQ(0, waitpid(hog, NULL, WNOHANG));
	EXPECT_TRUE(hog_done(hog));
	EXPECT_EQ(10, recv_n(a, buf, 10));
	EXPECT_STREQ("APP:HELLO\n", buf);
	EXPECT_EQ(y0 + 1, handler_counter("yield", "yielded"));

	xsel_write(YIELD_PARAM, old);
	close(a);
	close(b);
	close(lfd);
	EXPECT_EQ(0, xsel_sh("%s handler detach yield >/dev/null", xsel_path(x, xsel_root())));
	kill(owner, SIGKILL);
	waitpid(owner, NULL, 0);
}

static volatile int pinging;
static char ping_err[128];	/* the first failure, for the log */

static void *pinger(void *arg)
{
	long bad = 0;

	while (pinging) {
		int fd = dial(AF_INET);
		char buf[64];
		int n;

		if (fd < 0) {
			if (errno == EINTR)	/* see recv_n() */
				continue;
			if (!bad++)
				snprintf(ping_err, sizeof(ping_err), "connect: %s", strerror(errno));
			continue;
		}
		/* Either path answers: the kernel or the application. */
		if (send_s(fd, "PING\n") && !bad++)
			snprintf(ping_err, sizeof(ping_err), "send: %s", strerror(errno));
		n = recv_n(fd, buf, 7);
		if ((n != 7 || (strcmp(buf, "+PONG\r\n") && strncmp(buf, "APP:PIN", 7))) && !bad++)
			snprintf(ping_err, sizeof(ping_err), "reply of %d bytes '%s' (%s)", n, buf,
				 strerror(errno));
		close(fd);
	}
	return (void *)bad;
}

/* Detach and unload under traffic: no request is lost or left hanging. */
/* Seven attaches and detaches: slow on the KASAN kernel (check-debug). */
TEST_F_TIMEOUT(xps, detach_and_unload_under_traffic, 300)
{
	pthread_t t;
	void *bad;
	int i;

	pinging = 1;
	ASSERT_EQ(0, pthread_create(&t, NULL, pinger, NULL));
	usleep(300000);
	/* Attached handlers pin the module. */
	EXPECT_NE(0, xsel_sh("rmmod xps 2>/dev/null"));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0, detach());
		usleep(200000);
		EXPECT_EQ(0, attach());
		usleep(200000);
	}
	EXPECT_EQ(0, detach());
	usleep(300000);
	/* bpf_link release is asynchronous: give it a moment. */
	for (i = 0; i < 50 && xsel_sh("rmmod xps 2>/dev/null"); i++)
		usleep(100000);
	EXPECT_LT(i, 50);
	usleep(300000);
	pinging = 0;
	pthread_join(t, &bad);
	EXPECT_EQ(0, (long)bad)
		TH_LOG("%ld bad, first: %s", (long)bad, ping_err);
	EXPECT_NE(0, access(SYS, F_OK));
}

int main(int argc, char **argv)
{
	if (world_up()) {
		fprintf(stderr, "xps selftest: cannot load the module or attach %s\n", PIN);
		return KSFT_FAIL;
	}
	return test_harness_run(argc, argv);
}
