// SPDX-License-Identifier: GPL-2.0
/*
 * The guest has two NUMA nodes (CPUs 0-1 on node 0, 2-3 on node 1, memory
 * on both), and memory policy and page migration work across them: LATR's
 * AutoNUMA work depends on both.
 */
#include <sys/mman.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "xsel.h"

#define MPOL_BIND 2
#define MPOL_MF_MOVE (1 << 1)
#define NPAGES 8

static long node_mem_kb(int node)
{
	char buf[4096], *p;

	if (!xsel_read(xsel_path("/sys/devices/system/node/node%d/meminfo", node),
		       buf, sizeof(buf)))
		return -1;
	p = strstr(buf, "MemTotal:");
	return p ? strtol(p + 9, NULL, 10) : -1;
}

TEST(two_nodes_with_cpus_and_memory)
{
	char buf[256];

	ASSERT_NE(NULL, xsel_read("/sys/devices/system/node/online", buf, sizeof(buf)));
	EXPECT_STREQ("0-1", buf);
	ASSERT_NE(NULL, xsel_read("/sys/devices/system/node/node0/cpulist", buf, sizeof(buf)));
	EXPECT_STREQ("0-1", buf);
	ASSERT_NE(NULL, xsel_read("/sys/devices/system/node/node1/cpulist", buf, sizeof(buf)));
	EXPECT_STREQ("2-3", buf);
	EXPECT_GT(node_mem_kb(0), 512 * 1024);
	EXPECT_GT(node_mem_kb(1), 512 * 1024);
}

/* Which node backs each page of @addr (move_pages with nodes == NULL). */
static int page_nodes(char *addr, int *status)
{
	void *pages[NPAGES];
	int i;

	for (i = 0; i < NPAGES; i++)
		pages[i] = addr + i * getpagesize();
	return syscall(SYS_move_pages, 0, NPAGES, pages, NULL, status, 0);
}

TEST(bind_then_migrate_between_nodes)
{
	int node, i, status[NPAGES];
	long psz = getpagesize();

	for (node = 0; node < 2; node++) {
		unsigned long mask = 1UL << node;
		int nodes[NPAGES], other = !node;
		void *pages[NPAGES];
		char *buf;

		buf = mmap(NULL, NPAGES * psz, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, buf);
		ASSERT_EQ(0, syscall(SYS_mbind, buf, NPAGES * psz, MPOL_BIND,
				     &mask, 8 * sizeof(mask), 0));
		memset(buf, 0x5a, NPAGES * psz);
		ASSERT_EQ(0, page_nodes(buf, status));
		for (i = 0; i < NPAGES; i++)
			EXPECT_EQ(node, status[i]);

		/* Move every page to the other node; contents must survive. */
		for (i = 0; i < NPAGES; i++) {
			pages[i] = buf + i * psz;
			nodes[i] = other;
		}
		ASSERT_EQ(0, syscall(SYS_move_pages, 0, NPAGES, pages, nodes,
				     status, MPOL_MF_MOVE));
		ASSERT_EQ(0, page_nodes(buf, status));
		for (i = 0; i < NPAGES; i++) {
			EXPECT_EQ(other, status[i]);
			EXPECT_EQ(0x5a, buf[i * psz + 7]);
		}
		munmap(buf, NPAGES * psz);
	}
}

TEST_HARNESS_MAIN
