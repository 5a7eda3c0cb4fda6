// SPDX-License-Identifier: GPL-2.0
/*
 * xcanary: the smallest module the out-of-tree build, module loading and
 * sysfs reporting of this project go through. The infra/module kselftest
 * loads it, talks to it through /sys/kernel/xcanary and unloads it, so a
 * broken module toolchain shows up before the real modules (xps, latr,
 * xlane) do.
 *
 * /sys/kernel/xcanary/counter    rw: reads the counter, a write adds to it
 * /sys/kernel/xcanary/reads      ro: how many times counter was read
 * /sys/kernel/xcanary/load_cpu   ro: the CPU module_init ran on
 */
#include <linux/atomic.h>
#include <linux/kernel.h>
#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/smp.h>
#include <linux/sysfs.h>

static long initial;
module_param(initial, long, 0444);
MODULE_PARM_DESC(initial, "Initial value of the counter (default 0)");

static atomic_long_t counter;
static atomic_long_t reads;
static int load_cpu;
static struct kobject *xcanary_kobj;

static ssize_t counter_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	atomic_long_inc(&reads);
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&counter));
}

static ssize_t counter_store(struct kobject *kobj, struct kobj_attribute *attr,
			     const char *buf, size_t count)
{
	long delta;
	int err;

	err = kstrtol(buf, 0, &delta);
	if (err)
		return err;
	atomic_long_add(delta, &counter);
	return count;
}

static ssize_t reads_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&reads));
}

static ssize_t load_cpu_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%d\n", load_cpu);
}

static struct kobj_attribute counter_attr = __ATTR_RW(counter);
static struct kobj_attribute reads_attr = __ATTR_RO(reads);
static struct kobj_attribute load_cpu_attr = __ATTR_RO(load_cpu);

static struct attribute *xcanary_attrs[] = {
	&counter_attr.attr,
	&reads_attr.attr,
	&load_cpu_attr.attr,
	NULL,
};

static const struct attribute_group xcanary_group = {
	.attrs = xcanary_attrs,
};

static int __init xcanary_init(void)
{
	int err;

	atomic_long_set(&counter, initial);
	load_cpu = raw_smp_processor_id();

	xcanary_kobj = kobject_create_and_add("xcanary", kernel_kobj);
	if (!xcanary_kobj)
		return -ENOMEM;
	err = sysfs_create_group(xcanary_kobj, &xcanary_group);
	if (err) {
		kobject_put(xcanary_kobj);
		return err;
	}
	pr_info("xcanary: loaded, counter=%ld\n", initial);
	return 0;
}

static void __exit xcanary_exit(void)
{
	/*
	 * kobject_put() removes the sysfs files; kernfs drains active
	 * readers and makes later reads on open files fail, so nothing can
	 * run our show/store callbacks after this returns.
	 */
	kobject_put(xcanary_kobj);
	pr_info("xcanary: unloaded after %ld reads\n", atomic_long_read(&reads));
}

module_init(xcanary_init);
module_exit(xcanary_exit);

MODULE_DESCRIPTION("Canary module for the build/boot/test loop");
MODULE_AUTHOR("xlat project");
MODULE_LICENSE("GPL");
