// SPDX-License-Identifier: GPL-2.0
/*
 * latr: lazy TLB shootdowns for munmap(), madvise(MADV_DONTNEED) and the
 * protection changes of AutoNUMA's hinting faults.
 *
 * LATR ("Taming latency in data center applications", ch. 4) replaces the
 * shootdown IPIs of free operations by per-CPU states that the other CPUs
 * sweep at their next scheduler tick or context switch; the freed pages and
 * page-table pages are reclaimed only after every CPU named in a state has
 * flushed. This module is the provider behind <linux/tlb_lazy.h>.
 *
 * Sweeps. Every CPU sweeps at its scheduler tick, before a context switch
 * changes its address space, and before it idles; an idle CPU also drops
 * the user mm it holds in lazy TLB mode, so it is left out of shootdowns
 * recorded while it sleeps.
 *
 * States. Each CPU owns a ring of LATR_RING states in one contiguous,
 * cache-aligned region (all CPUs' rings back to back, so a sweep walks
 * memory linearly). A state holds the range, the mm (with a reference), the
 * mm's TLB generation to reach, the page chain taken from the mmu_gather,
 * the time it was recorded, and the set of CPUs that still have to flush.
 *
 * Life of a state, and who may write what:
 *  FREE -> ACTIVE   the owning CPU, preemption disabled (latr_defer()):
 *                   fills every field, then publishes with a release store.
 *  ACTIVE -> COMPLETING -> DONE
 *                   the last CPU to clear its bit in ->pending (a sweep, or
 *                   the IPI of a forced completion). The bit operations are
 *                   fully ordered atomics, so of two CPUs clearing the last
 *                   two bits at least one sees the mask empty; the cmpxchg
 *                   to COMPLETING lets exactly one complete the state. That
 *                   one drops it from the mm's pending count, then
 *                   releases it as DONE: until then the reclaimer leaves
 *                   it alone, so ->mm is still held.
 *  DONE -> FREE     the reclaimer only (a work item, never concurrent with
 *                   itself): frees the pages, drops the mm, then releases
 *                   the slot to its owner.
 * A bitmap of the slots not FREE (latr_busy) lets every scan skip the rest.
 * A state whose bound (timeout_us) expires is completed by IPIs to the CPUs
 * still named in it that do not tick (idle, nohz_full): they are handled,
 * not forgotten. A CPU that does tick and still owes the state after
 * timeout_us has taken no tick since the state was recorded: it runs with
 * interrupts off, or it is a vCPU its host has not run (or, under QEMU
 * TCG, whose timer the host has not fired). It sweeps at its next tick; an
 * IPI would buy an earlier reclaim with an interrupt, so it gets one only
 * after stall_timeouts times the bound. A range about to be mapped or
 * populated again is completed synchronously, before the kernel goes on
 * (latr_reuse()).
 *
 * Each CPU keeps a count of the states that name it ("owed"), so the sweep
 * at every tick costs one per-CPU read when there is nothing to do.
 *
 * AutoNUMA (Table 4.1 of the paper). task_numa_work() makes a range
 * PROT_NONE so that the next access faults and shows where the task runs;
 * the flush only makes the other CPUs fault sooner. A state with ->prot
 * set holds no pages and stays out of reuse and steer (the range is still
 * mapped). While it is ACTIVE the kernel counts it in mm->tlb_lazy_prot,
 * so pte_accessible() reports its PTEs as possibly cached and migration,
 * reclaim and KSM flush them synchronously; the CPU that completes the
 * state drops that count (tlb_lazy_prot_done()). Parameter numa=N leaves
 * these flushes to the kernel.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/capability.h>
#include <linux/cpumask.h>
#include <linux/kobject.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/pid.h>
#include <linux/sched/clock.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/sizes.h>
#include <linux/smp.h>
#include <linux/sysfs.h>
#include <linux/tick.h>
#include <linux/tlb_lazy.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include <asm/mmu.h>
#include <asm/tlbflush.h>

#define LATR_RING	64	/* states per CPU, as in the paper */

/* bit in mm_struct::tlb_lazy_flags: this process opted in */
#define LATR_MM_OPTIN	0

enum latr_status {
	LATR_FREE,
	LATR_ACTIVE,
	LATR_COMPLETING,	/* flushed everywhere, leaving the pending count */
	LATR_DONE,
};

enum latr_mode {
	LATR_MODE_OFF,		/* every shootdown synchronous */
	LATR_MODE_OPTIN,	/* lazy for processes that opted in */
	LATR_MODE_ALL,		/* lazy for every process */
};

static const char * const latr_mode_names[] = {
	[LATR_MODE_OFF] = "off",
	[LATR_MODE_OPTIN] = "optin",
	[LATR_MODE_ALL] = "all",
};

struct latr_state {
	atomic_t status;
	u8 stride_shift;
	bool freed_tables;
	bool waited;		/* the reclaimer gave a stalled CPU more time */
	bool prot;		/* a NUMA hinting protection change, no pages */
	unsigned long start;
	unsigned long end;
	struct mm_struct *mm;
	u64 tlb_gen;
	u64 recorded_ns;
	struct mmu_gather_batch *pages;
	/*
	 * CPUs still to flush. cpumask_size() bytes, not nr_cpu_ids bits:
	 * cpumask_clear() and friends write up to NR_CPUS bits when NR_CPUS
	 * is at most 4 * BITS_PER_LONG, past a mask sized for nr_cpu_ids.
	 */
	unsigned long pending[];
};

struct latr_cpu {
	unsigned int head;	/* where latr_claim() looks first (owner only) */
	atomic_t owed;		/* ACTIVE states that still name this CPU */
	/*
	 * The CPU's last sweep was at a tick or switch (true), or before it
	 * idled (false; also before its first sweep). Written by the CPU,
	 * read by the reclaimer without ordering: see latr_force_tickless().
	 */
	bool ticking;
};

static DEFINE_PER_CPU(struct latr_cpu, latr_cpu);

/* Statistics, summed over CPUs when read. */
enum latr_stat {
	LATR_STAT_RECORDED,		/* shootdowns taken lazily */
	LATR_STAT_NUMA_RECORDED,	/* ... of them NUMA hinting changes */
	LATR_STAT_LOCAL_ONLY,		/* ... of them with no other CPU to flush */
	LATR_STAT_IPIS_AVOIDED,		/* remote CPUs not interrupted */
	LATR_STAT_SWEEP_FLUSHES,	/* states flushed by a sweep */
	LATR_STAT_SWITCH_FLUSHES,	/* ... of them at a context switch */
	LATR_STAT_IDLE_FLUSHES,		/* ... of them before idling */
	LATR_STAT_FALLBACK_RING_FULL,	/* synchronous: ring full */
	LATR_STAT_FALLBACK_NOMEM,	/* synchronous: no memory for pages */
	LATR_STAT_TIMEOUT_IPIS,		/* IPIs after the bound expired */
	LATR_STAT_TIMEOUT_WAITS,	/* states given time for a stalled CPU */
	LATR_STAT_REUSE_SYNCS,		/* states completed for a reuse */
	LATR_STAT_REUSE_IPIS,		/* IPIs sent for them */
	LATR_STAT_STEERED,		/* mmaps steered off a pending range */
	LATR_STAT_RECLAIMED,		/* states whose pages were freed */
	LATR_STAT_RECLAIM_DELAY_NS,	/* sum of record-to-free times */
	LATR_NR_STATS
};

static const char * const latr_stat_names[LATR_NR_STATS] = {
	[LATR_STAT_RECORDED] = "recorded",
	[LATR_STAT_NUMA_RECORDED] = "numa_recorded",
	[LATR_STAT_LOCAL_ONLY] = "local_only",
	[LATR_STAT_IPIS_AVOIDED] = "ipis_avoided",
	[LATR_STAT_SWEEP_FLUSHES] = "sweep_flushes",
	[LATR_STAT_SWITCH_FLUSHES] = "switch_flushes",
	[LATR_STAT_IDLE_FLUSHES] = "idle_flushes",
	[LATR_STAT_FALLBACK_RING_FULL] = "fallback_ring_full",
	[LATR_STAT_FALLBACK_NOMEM] = "fallback_nomem",
	[LATR_STAT_TIMEOUT_IPIS] = "timeout_ipis",
	[LATR_STAT_TIMEOUT_WAITS] = "timeout_waits",
	[LATR_STAT_REUSE_SYNCS] = "reuse_syncs",
	[LATR_STAT_REUSE_IPIS] = "reuse_ipis",
	[LATR_STAT_STEERED] = "steered",
	[LATR_STAT_RECLAIMED] = "reclaimed",
	[LATR_STAT_RECLAIM_DELAY_NS] = "reclaim_delay_ns_sum",
};

static DEFINE_PER_CPU(u64[LATR_NR_STATS], latr_stats);
static u64 latr_reclaim_delay_max_ns;	/* reclaimer only */

static void latr_count(enum latr_stat stat, u64 n)
{
	this_cpu_add(latr_stats[stat], n);
}

static void *latr_region;	/* all rings, nr_cpu_ids * LATR_RING states */
static size_t latr_stride;	/* bytes per state, cache aligned */
static atomic_t latr_live;	/* states not FREE */
static int latr_mode = LATR_MODE_OFF;
static unsigned int latr_timeout_us = 2000;	/* two 1 ms ticks, as LATR */
static bool latr_numa = true;
module_param_named(numa, latr_numa, bool, 0644);
MODULE_PARM_DESC(numa,
		 "Take the flushes of NUMA hinting protection changes lazily too (default Y)");
static bool latr_idle_leave = true;
module_param_named(idle_leave, latr_idle_leave, bool, 0644);
MODULE_PARM_DESC(idle_leave,
		 "Idle CPUs drop the user mm they hold lazily (default Y)");
/* see latr_complete_overdue() */
static unsigned int latr_stall_timeouts = 10;
module_param_named(stall_timeouts, latr_stall_timeouts, uint, 0644);
MODULE_PARM_DESC(stall_timeouts,
		 "A CPU that ticks but has not swept a state gets its IPI after this many timeout_us (default 10; 0 or 1: at timeout_us, like one that does not tick)");

static void latr_reclaim(struct work_struct *work);
static DECLARE_DELAYED_WORK(latr_work, latr_reclaim);

static unsigned int latr_nr_slots;	/* nr_cpu_ids * LATR_RING */

/*
 * One bit per slot that is not FREE (ACTIVE, or DONE and not yet retired),
 * so that the scans (sweep, reuse, steer, collect) visit the few slots in
 * use instead of every slot of every ring: the reuse and steer scans run
 * with mmap_lock held for writing. The owning CPU sets a slot's bit before
 * the release store that publishes the state; the reclaimer clears it in
 * latr_retire() before the release store that hands the slot back. So a
 * reader that sees a state as ACTIVE through acquire (the state's release,
 * or mmap_lock taken after the munmap that recorded it) also sees its bit,
 * and a clear never lands on the slot's next state. A sweeping CPU may
 * read its "owed" count before the bit of a new state is visible; it then
 * finds that state at its next sweep, as it would a state recorded a
 * moment later.
 */
static unsigned long *latr_busy;

#define for_each_busy_slot(idx) \
	for_each_set_bit(idx, latr_busy, latr_nr_slots)

/* Slot @idx of the whole region: CPU idx / LATR_RING, entry idx % LATR_RING */
static struct latr_state *latr_slot_at(unsigned int idx)
{
	return latr_region + (size_t)idx * latr_stride;
}

static bool latr_wants(struct mm_struct *mm)
{
	switch (READ_ONCE(latr_mode)) {
	case LATR_MODE_ALL:
		return true;
	case LATR_MODE_OPTIN:
		return test_bit(LATR_MM_OPTIN, &mm->tlb_lazy_flags);
	default:
		return false;
	}
}

static void latr_kick_reclaimer(void)
{
	/* unbound: runs on housekeeping CPUs, never on an isolated one */
	if (!delayed_work_pending(&latr_work))
		queue_delayed_work(system_unbound_wq, &latr_work, 1);
}

/*
 * The first FREE slot of @cpu's ring from its head on, or NULL if the ring
 * is full. States retire out of order: one that waits for a stalled CPU, or
 * one of a process whose threads run elsewhere, must not block the slots
 * after it that have retired already, or every later shootdown of this CPU
 * would take the IPI fallback until that one state retires. The head is
 * FREE nearly always, so the loop usually stops at once. Preemption
 * disabled: only this CPU takes slots of its ring.
 */
static struct latr_state *latr_claim(int cpu, struct latr_cpu *lc,
				     unsigned int *idxp)
{
	struct latr_state *s;
	unsigned int i, idx;

	for (i = 0; i < LATR_RING; i++) {
		idx = cpu * LATR_RING + (lc->head + i) % LATR_RING;
		s = latr_slot_at(idx);
		/* Pairs with the release in latr_retire(): the slot is ours again. */
		if (atomic_read_acquire(&s->status) == LATR_FREE) {
			/* latr_defer() moves the head past the slot it fills */
			lc->head += i;
			*idxp = idx;
			return s;
		}
	}
	return NULL;
}

/*
 * ->defer(): take the flush of @tlb lazily if this mm wants it and the
 * ring has room; otherwise the kernel flushes synchronously (the IPI
 * fallback of LATR).
 */
static bool latr_defer(struct mmu_gather *tlb,
		       const struct tlb_lazy_range *range)
{
	struct mm_struct *mm = range->mm;
	struct mmu_gather_batch *pages;
	struct latr_state *s;
	struct latr_cpu *lc;
	unsigned int idx, nr;
	int cpu, other;

	if (!latr_wants(mm) || (range->prot && !READ_ONCE(latr_numa)))
		return false;

	cpu = get_cpu();
	/* Single-threaded so far: the stock local flush is all there is. */
	if (cpumask_any_but(mm_cpumask(mm), cpu) >= nr_cpu_ids)
		goto stock;

	lc = this_cpu_ptr(&latr_cpu);
	s = latr_claim(cpu, lc, &idx);
	if (!s) {
		latr_count(LATR_STAT_FALLBACK_RING_FULL, 1);
		goto stock;
	}
	pages = tlb_lazy_take_pages(tlb);
	if (IS_ERR(pages)) {
		latr_count(LATR_STAT_FALLBACK_NOMEM, 1);
		goto stock;
	}

	mmgrab(mm);
	s->mm = mm;
	s->start = range->start;
	s->end = range->end;
	s->stride_shift = range->stride_shift;
	s->freed_tables = range->freed_tables;
	s->waited = false;
	s->prot = range->prot;
	s->pages = pages;
	WRITE_ONCE(s->recorded_ns, local_clock());
	/* Flushes this CPU; every CPU left in ->pending owes a flush. */
	s->tlb_gen = flush_tlb_mm_range_lazy(mm, s->start, s->end, s->stride_shift,
					     s->freed_tables,
					     to_cpumask(s->pending));
	nr = 0;
	for_each_cpu(other, to_cpumask(s->pending)) {
		atomic_inc(&per_cpu(latr_cpu, other).owed);
		nr++;
	}
	/*
	 * Nothing owed: the state is complete now and never counts. A
	 * protection change is counted by the kernel already (->prot).
	 */
	if (nr && !s->prot)
		tlb_lazy_pending_inc(mm);
	else if (!nr && s->prot)
		tlb_lazy_prot_done(mm);
	atomic_inc(&latr_live);
	set_bit(idx, latr_busy);
	/* Publish: a sweeper that sees ACTIVE sees every field above. */
	atomic_set_release(&s->status, nr ? LATR_ACTIVE : LATR_DONE);
	lc->head++;
	latr_count(LATR_STAT_RECORDED, 1);
	latr_count(LATR_STAT_NUMA_RECORDED, s->prot);
	latr_count(LATR_STAT_IPIS_AVOIDED, nr);
	put_cpu();

	if (nr) {
		latr_kick_reclaimer();
	} else {
		/*
		 * No CPU owes anything (the others in mm_cpumask() had left
		 * the mm): free the pages right away, but not here, where
		 * the caller holds rcu_read_lock() around ->defer().
		 */
		latr_count(LATR_STAT_LOCAL_ONLY, 1);
		mod_delayed_work(system_unbound_wq, &latr_work, 0);
	}
	return true;

stock:
	put_cpu();
	return false;
}

/*
 * This CPU has flushed @s: clear its bit; the last one completes @s.
 *
 * The CPU that completes @s also drops it from the mm's pending count at
 * once, not when the reclaimer frees its pages a tick or more later: while
 * the count is non-zero, every mmap, mremap and page fault of the mm calls
 * ->reuse() (and mmap ->steer()), and a process that munmaps all the time
 * (Apache with EnableMMAP) would never see it at zero. The pages stay held
 * until latr_retire(), but no CPU can reach them through its TLB any more,
 * which is all ->reuse() has to guarantee. The cmpxchg is fully ordered:
 * the decrement comes after every CPU's flush and clear, which it saw. It
 * must also come before the state is DONE: from then on the reclaimer may
 * retire it and drop its reference to the mm at any moment.
 */
static void latr_cleared(struct latr_state *s, int cpu)
{
	if (!test_and_clear_bit(cpu, s->pending))
		return;
	atomic_dec(&per_cpu(latr_cpu, cpu).owed);
	if (bitmap_empty(s->pending, nr_cpu_ids) &&
	    atomic_cmpxchg(&s->status, LATR_ACTIVE,
			   LATR_COMPLETING) == LATR_ACTIVE) {
		if (s->prot)
			tlb_lazy_prot_done(s->mm);
		else
			tlb_lazy_pending_dec(s->mm);
		atomic_set_release(&s->status, LATR_DONE);
	}
}

/* Flush @s on this CPU if it still owes it. Interrupts disabled. */
static bool latr_flush_one(struct latr_state *s, int cpu, bool may_switch)
{
	if (atomic_read_acquire(&s->status) != LATR_ACTIVE ||
	    !test_bit(cpu, s->pending))
		return false;
	if (!flush_tlb_lazy_local(s->mm, s->start, s->end, s->stride_shift,
				  s->freed_tables, s->tlb_gen, may_switch))
		return false;
	latr_cleared(s, cpu);
	return true;
}

/*
 * ->sweep(): at the tick, before a context switch changes the mm, and
 * before the CPU idles. Interrupts disabled.
 */
static void latr_sweep(enum tlb_lazy_point point)
{
	struct latr_cpu *lc = this_cpu_ptr(&latr_cpu);
	bool switching = point == TLB_LAZY_SWITCH;
	bool ticking = point != TLB_LAZY_IDLE;
	int me = smp_processor_id();
	unsigned int idx, flushed = 0;

	if (lc->ticking != ticking)
		WRITE_ONCE(lc->ticking, ticking);
	if (atomic_read(&lc->owed)) {
		for_each_busy_slot(idx)
			flushed += latr_flush_one(latr_slot_at(idx), me,
						  !switching);
	}
	if (flushed) {
		latr_count(LATR_STAT_SWEEP_FLUSHES, flushed);
		if (switching)
			latr_count(LATR_STAT_SWITCH_FLUSHES, flushed);
		else if (point == TLB_LAZY_IDLE)
			latr_count(LATR_STAT_IDLE_FLUSHES, flushed);
	}
	/*
	 * A sleeping CPU does not tick: drop the user mm it holds in lazy
	 * TLB mode, so that shootdowns recorded meanwhile leave it out
	 * (flush_tlb_mm_range_lazy() skips CPUs whose CR3 is elsewhere).
	 */
	if (point == TLB_LAZY_IDLE && READ_ONCE(latr_idle_leave) &&
	    READ_ONCE(latr_mode) != LATR_MODE_OFF)
		leave_mm();
}

/* IPI handler of a forced completion. */
static void latr_flush_ipi(void *info)
{
	latr_flush_one(info, smp_processor_id(), true);
}

/*
 * Complete @s on the CPUs of @mask (->pending, or a part of it) now: IPI
 * them and wait. This CPU, if named, flushes in place.
 * Return: the number of IPIs sent.
 */
static unsigned int latr_force(struct latr_state *s, const struct cpumask *mask)
{
	unsigned int nr;
	int me;

	if (atomic_read_acquire(&s->status) != LATR_ACTIVE)
		return 0;
	me = get_cpu();
	nr = cpumask_weight(mask);
	if (nr) {
		nr -= cpumask_test_cpu(me, mask);
		on_each_cpu_mask(mask, latr_flush_ipi, s, true);
	}
	put_cpu();
	return nr;
}

/* Is @s a pending free of [start, end) in @mm? (A ->prot range stays mapped.) */
static bool latr_overlaps(struct latr_state *s, struct mm_struct *mm,
			  unsigned long start, unsigned long end)
{
	return s->mm == mm && !s->prot &&
	       (s->end == TLB_FLUSH_ALL || (s->start < end && start < s->end));
}

/*
 * ->reuse(): [start, end) of @mm is about to be mapped or populated again.
 * No CPU may keep a translation of the old pages past this point.
 */
static void latr_reuse(struct mm_struct *mm, unsigned long start,
		       unsigned long end)
{
	struct latr_state *s;
	unsigned int idx;

	for_each_busy_slot(idx) {
		s = latr_slot_at(idx);
		if (atomic_read_acquire(&s->status) != LATR_ACTIVE ||
		    !latr_overlaps(s, mm, start, end))
			continue;
		latr_count(LATR_STAT_REUSE_IPIS,
			   latr_force(s, to_cpumask(s->pending)));
		latr_count(LATR_STAT_REUSE_SYNCS, 1);
	}
}

/*
 * ->steer(): get_unmapped_area() chose [start, end); if shootdowns of @mm
 * are pending there, suggest the highest range of the same length below
 * them that is neither pending nor mapped (LATR does not hand out a lazily
 * freed virtual range before its epoch ends). Pending ranges stacked just
 * below each other, as a loop of mmap() and munmap() leaves them, and the
 * mappings between them are skipped in one call: a suggestion that is
 * mapped already is not taken as a hint, and get_unmapped_area() would
 * come back to the pending range, which then has to be completed by IPIs
 * with mmap_lock held for writing (Apache's mmap of a file did so for a
 * quarter of its munmaps). The caller holds mmap_lock, as the VMA lookup
 * needs. Stack-like mappings end the search: their guard gap is not known
 * here.
 */
static unsigned long latr_steer(struct mm_struct *mm, unsigned long start,
				unsigned long end)
{
	unsigned long len = end - start, lo = start, hi = end;
	/* mmap_min_addr is not exported; nothing is steered into the low 1 MiB */
	unsigned long floor = len + SZ_1M;
	struct vm_area_struct *vma;
	unsigned int idx, moves = 0;
	struct latr_state *s;
	bool moved;

	do {
		moved = false;
		for_each_busy_slot(idx) {
			s = latr_slot_at(idx);
			if (atomic_read_acquire(&s->status) != LATR_ACTIVE ||
			    s->end == TLB_FLUSH_ALL ||
			    !latr_overlaps(s, mm, lo, hi))
				continue;
			if (s->start < floor)
				return 0;
			hi = s->start;
			lo = hi - len;
			moved = true;
		}
		if (lo == start)
			break;
		vma = find_vma_intersection(mm, lo, hi);
		if (vma) {
			if (vma->vm_flags & (VM_GROWSDOWN | VM_SHADOW_STACK) ||
			    vma->vm_start < floor)
				return 0;
			hi = vma->vm_start;
			lo = hi - len;
			moved = true;
		}
	} while (moved && ++moves < LATR_RING);

	if (lo == start)
		return 0;
	latr_count(LATR_STAT_STEERED, 1);
	return lo;
}

/*
 * Age of @s at @now. local_clock() is only monotonic per CPU: read on
 * another CPU than the one that recorded @s it may be a little behind, and
 * the unsigned difference would wrap to an age of centuries (a state
 * forced by IPIs at once, a maximum reclaim delay near 2^64).
 */
static u64 latr_age_ns(const struct latr_state *s, u64 now)
{
	u64 then = READ_ONCE(s->recorded_ns);	/* see oldest_us_show() */

	return now > then ? now - then : 0;
}

/* Free what slot @idx (@s) held and hand the slot back to its owner. */
static void latr_retire(struct latr_state *s, unsigned int idx, u64 now)
{
	u64 delay = latr_age_ns(s, now);

	tlb_lazy_free_pages(s->pages);
	s->pages = NULL;
	mmdrop(s->mm);
	s->mm = NULL;
	latr_count(LATR_STAT_RECLAIMED, 1);
	latr_count(LATR_STAT_RECLAIM_DELAY_NS, delay);
	if (delay > latr_reclaim_delay_max_ns)
		WRITE_ONCE(latr_reclaim_delay_max_ns, delay);
	atomic_dec(&latr_live);
	clear_bit(idx, latr_busy);
	/* Pairs with the acquire in latr_defer(); orders the clear too. */
	atomic_set_release(&s->status, LATR_FREE);
}

/* latr_force_tickless()'s scratch mask: the reclaimer never runs twice. */
static struct cpumask latr_tickless;

/*
 * Complete overdue state @s on the CPUs named in it that do not tick: an
 * idle CPU (which swept before it slept, so owes @s only if it kept the mm,
 * idle_leave=0) or a nohz_full one. The others tick, and still owe @s only
 * because they have taken no tick since it was recorded, two ticks ago or
 * more (see the head of this file); they sweep @s at their next one. Their
 * ->ticking flag is read without ordering; a CPU that went to sleep a
 * moment ago swept before it did, and owes nothing recorded before that,
 * and a state recorded after it is older than timeout_us, long after the
 * flag is visible. Misread or not, stall_timeouts bounds the wait.
 */
static unsigned int latr_force_tickless(struct latr_state *s)
{
	bool stalled = false;
	int cpu;

	cpumask_clear(&latr_tickless);
	for_each_cpu(cpu, to_cpumask(s->pending)) {
		if (!tick_nohz_full_cpu(cpu) &&
		    READ_ONCE(per_cpu(latr_cpu, cpu).ticking))
			stalled = true;
		else
			__cpumask_set_cpu(cpu, &latr_tickless);
	}
	if (stalled && !s->waited) {
		s->waited = true;
		latr_count(LATR_STAT_TIMEOUT_WAITS, 1);
	}
	return latr_force(s, &latr_tickless);
}

/*
 * Complete @s if it is overdue: on the CPUs that cannot sweep it after
 * timeout_us, on all of them after stall_timeouts times that, or at once
 * if @drain.
 */
static void latr_complete_overdue(struct latr_state *s, bool drain,
				  u64 timeout_ns)
{
	u64 age = latr_age_ns(s, local_clock());
	unsigned int ipis = 0;

	if (drain || age > max(READ_ONCE(latr_stall_timeouts), 1U) * timeout_ns)
		ipis = latr_force(s, to_cpumask(s->pending));
	else if (age > timeout_ns)
		ipis = latr_force_tickless(s);
	latr_count(LATR_STAT_TIMEOUT_IPIS, ipis);
}

/* Complete overdue states, free the completed ones. @drain: all of them. */
static void latr_collect(bool drain)
{
	u64 timeout_ns = (u64)READ_ONCE(latr_timeout_us) * NSEC_PER_USEC;
	struct latr_state *s;
	unsigned int idx;

	for_each_busy_slot(idx) {
		int status;

		s = latr_slot_at(idx);
		status = atomic_read_acquire(&s->status);
		if (status == LATR_ACTIVE) {
			latr_complete_overdue(s, drain, timeout_ns);
			status = atomic_read_acquire(&s->status);
		}
		if (status == LATR_DONE)
			latr_retire(s, idx, local_clock());
		cond_resched();
	}
}

static void latr_reclaim(struct work_struct *work)
{
	latr_collect(false);
	if (atomic_read(&latr_live))
		queue_delayed_work(system_unbound_wq, &latr_work, 1);
}

static const struct tlb_lazy_ops latr_ops = {
	.defer = latr_defer,
	.sweep = latr_sweep,
	.reuse = latr_reuse,
	.steer = latr_steer,
};

/* ---- sysfs: /sys/kernel/latr ---------------------------------------- */

static struct kobject *latr_kobj;

static ssize_t mode_show(struct kobject *kobj, struct kobj_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%s\n", latr_mode_names[READ_ONCE(latr_mode)]);
}

static ssize_t mode_store(struct kobject *kobj, struct kobj_attribute *attr,
			  const char *buf, size_t count)
{
	int mode = sysfs_match_string(latr_mode_names, buf);

	if (mode < 0)
		return mode;
	WRITE_ONCE(latr_mode, mode);
	return count;
}

static ssize_t timeout_us_show(struct kobject *kobj,
			       struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(latr_timeout_us));
}

static ssize_t timeout_us_store(struct kobject *kobj,
				struct kobj_attribute *attr,
				const char *buf, size_t count)
{
	unsigned int us;
	int err = kstrtouint(buf, 0, &us);

	if (err)
		return err;
	if (us < 100 || us > 1000000)
		return -ERANGE;
	WRITE_ONCE(latr_timeout_us, us);
	return count;
}

static ssize_t pending_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&latr_live));
}

/*
 * Age of the oldest state that is not FREE, in microseconds (0: none). It
 * walks every slot, not latr_busy: a slot that some fault made the scans
 * lose would never be retired, and shows here as an age that keeps
 * growing. A state recorded or retired during the walk may be read as it
 * changes; it is then a young or a free one, which does not make the
 * oldest any younger.
 */
static ssize_t oldest_us_show(struct kobject *kobj,
			      struct kobj_attribute *attr, char *buf)
{
	u64 now = local_clock(), oldest = 0;
	struct latr_state *s;
	unsigned int idx;

	for (idx = 0; idx < latr_nr_slots; idx++) {
		s = latr_slot_at(idx);
		if (atomic_read_acquire(&s->status) != LATR_FREE)
			oldest = max(oldest, latr_age_ns(s, now));
	}
	return sysfs_emit(buf, "%llu\n", div_u64(oldest, NSEC_PER_USEC));
}

static ssize_t ring_size_show(struct kobject *kobj,
			      struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", LATR_RING);
}

/* Set or clear the opt-in of the process @buf names (a PID). */
static ssize_t latr_set_optin(const char *buf, size_t count, bool on)
{
	struct task_struct *task;
	struct mm_struct *mm;
	struct pid *pid;
	int nr, err;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	err = kstrtoint(buf, 0, &nr);
	if (err)
		return err;
	if (nr <= 0)
		return -EINVAL;
	pid = find_get_pid(nr);
	task = pid ? get_pid_task(pid, PIDTYPE_PID) : NULL;
	put_pid(pid);
	if (!task)
		return -ESRCH;
	mm = get_task_mm(task);
	put_task_struct(task);
	if (!mm)
		return -EINVAL;	/* a kernel thread, or exiting */
	if (on)
		set_bit(LATR_MM_OPTIN, &mm->tlb_lazy_flags);
	else
		clear_bit(LATR_MM_OPTIN, &mm->tlb_lazy_flags);
	mmput(mm);
	return count;
}

static ssize_t optin_store(struct kobject *kobj, struct kobj_attribute *attr,
			   const char *buf, size_t count)
{
	return latr_set_optin(buf, count, true);
}

static ssize_t optout_store(struct kobject *kobj, struct kobj_attribute *attr,
			    const char *buf, size_t count)
{
	return latr_set_optin(buf, count, false);
}

static struct kobj_attribute mode_attr = __ATTR_RW_MODE(mode, 0644);
static struct kobj_attribute timeout_us_attr = __ATTR_RW_MODE(timeout_us, 0644);
static struct kobj_attribute pending_attr = __ATTR_RO(pending);
static struct kobj_attribute oldest_us_attr = __ATTR_RO(oldest_us);
static struct kobj_attribute ring_size_attr = __ATTR_RO(ring_size);
static struct kobj_attribute optin_attr = __ATTR_WO(optin);
static struct kobj_attribute optout_attr = __ATTR_WO(optout);

static struct attribute *latr_attrs[] = {
	&mode_attr.attr,
	&timeout_us_attr.attr,
	&pending_attr.attr,
	&oldest_us_attr.attr,
	&ring_size_attr.attr,
	&optin_attr.attr,
	&optout_attr.attr,
	NULL,
};

static const struct attribute_group latr_group = {
	.attrs = latr_attrs,
};

/* stats/<name>: one counter per file; stats/reset zeroes them all. */
struct latr_stat_attr {
	struct kobj_attribute attr;
	int stat;	/* enum latr_stat, or -1 for the maximum delay */
};

static ssize_t latr_stat_show(struct kobject *kobj,
			      struct kobj_attribute *attr, char *buf)
{
	struct latr_stat_attr *sa = container_of(attr, struct latr_stat_attr,
						 attr);
	u64 sum = 0;
	int cpu;

	if (sa->stat < 0)
		return sysfs_emit(buf, "%llu\n",
				  READ_ONCE(latr_reclaim_delay_max_ns));
	for_each_possible_cpu(cpu)
		sum += per_cpu(latr_stats, cpu)[sa->stat];
	return sysfs_emit(buf, "%llu\n", sum);
}

static ssize_t reset_store(struct kobject *kobj, struct kobj_attribute *attr,
			   const char *buf, size_t count)
{
	int cpu;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(&latr_stats, cpu), 0, sizeof(latr_stats));
	WRITE_ONCE(latr_reclaim_delay_max_ns, 0);
	return count;
}

static struct latr_stat_attr latr_stat_attrs[LATR_NR_STATS + 1];
static struct kobj_attribute reset_attr = __ATTR_WO(reset);
static struct attribute *latr_stat_list[LATR_NR_STATS + 3];
static const struct attribute_group latr_stats_group = {
	.name = "stats",
	.attrs = latr_stat_list,
};

static void latr_init_stat_attrs(void)
{
	int i;

	for (i = 0; i <= LATR_NR_STATS; i++) {
		struct latr_stat_attr *sa = &latr_stat_attrs[i];

		sysfs_attr_init(&sa->attr.attr);
		sa->attr.attr.name = i < LATR_NR_STATS ? latr_stat_names[i] :
				     "reclaim_delay_ns_max";
		sa->attr.attr.mode = 0444;
		sa->attr.show = latr_stat_show;
		sa->stat = i < LATR_NR_STATS ? i : -1;
		latr_stat_list[i] = &sa->attr.attr;
	}
	latr_stat_list[LATR_NR_STATS + 1] = &reset_attr.attr;
	latr_stat_list[LATR_NR_STATS + 2] = NULL;
}

static const struct attribute_group *latr_groups[] = {
	&latr_group,
	&latr_stats_group,
	NULL,
};

/* ---- module ------------------------------------------------------------ */

static int mode_param_set(const char *val, const struct kernel_param *kp)
{
	int mode = sysfs_match_string(latr_mode_names, val);

	if (mode < 0)
		return mode;
	latr_mode = mode;
	return 0;
}

static int mode_param_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", latr_mode_names[READ_ONCE(latr_mode)]);
}

static const struct kernel_param_ops mode_param_ops = {
	.set = mode_param_set,
	.get = mode_param_get,
};
module_param_cb(mode, &mode_param_ops, NULL, 0444);
MODULE_PARM_DESC(mode, "Initial mode: off (default), optin or all");

static int __init latr_init(void)
{
	size_t size;
	int cpu, err;

	latr_stride = ALIGN(sizeof(struct latr_state) + cpumask_size(),
			    SMP_CACHE_BYTES);
	latr_nr_slots = nr_cpu_ids * LATR_RING;
	size = (size_t)latr_nr_slots * latr_stride;
	latr_region = vzalloc(size);
	if (!latr_region)
		return -ENOMEM;
	latr_busy = bitmap_zalloc(latr_nr_slots, GFP_KERNEL);
	if (!latr_busy) {
		err = -ENOMEM;
		goto free_region;
	}
	for_each_possible_cpu(cpu)
		per_cpu(latr_cpu, cpu).head = 0;

	latr_init_stat_attrs();
	latr_kobj = kobject_create_and_add("latr", kernel_kobj);
	if (!latr_kobj) {
		err = -ENOMEM;
		goto free_region;
	}
	err = sysfs_create_groups(latr_kobj, latr_groups);
	if (err)
		goto put_kobj;

	err = tlb_lazy_register(&latr_ops);
	if (err) {
		pr_err("cannot register as lazy TLB provider: %d\n", err);
		goto remove_groups;
	}
	pr_info("%u states per CPU (%zu KiB), mode %s\n", LATR_RING,
		size / 1024, latr_mode_names[latr_mode]);
	return 0;

remove_groups:
	sysfs_remove_groups(latr_kobj, latr_groups);
put_kobj:
	kobject_put(latr_kobj);
free_region:
	bitmap_free(latr_busy);
	vfree(latr_region);
	return err;
}

static void __exit latr_exit(void)
{
	/* No defer, sweep or reuse runs after this returns. */
	tlb_lazy_unregister(&latr_ops);
	cancel_delayed_work_sync(&latr_work);
	/* Complete what is still pending by IPIs, free every page. */
	latr_collect(true);
	WARN_ON(atomic_read(&latr_live));

	sysfs_remove_groups(latr_kobj, latr_groups);
	kobject_put(latr_kobj);
	bitmap_free(latr_busy);
	vfree(latr_region);
	pr_info("unloaded\n");
}

module_init(latr_init);
module_exit(latr_exit);

MODULE_DESCRIPTION("LATR: lazy TLB shootdowns swept at scheduler ticks");
MODULE_LICENSE("GPL");
