// SPDX-License-Identifier: GPL-2.0
/*
 * Files in the cache directory by name: a block's, opened to serve it, and
 * the node's own small files (its saved ring), written whole and replaced.
 * All of it as the node's owner, in the directory it was started with.
 */

#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/slab.h>

#include "store_priv.h"

/* Process context: name in the cache directory, opened for reading; ERR_PTR. */
static struct file *open_name(struct cp_store *st, const char *name)
{
	const struct cred *old;
	struct path path;
	struct file *file;
	int err;

	old = override_creds(st->cred);
	err = vfs_path_lookup(st->dir.dentry, st->dir.mnt, name, 0, &path);
	if (!err) {
		/*
		 * Only a regular file will do: opening a FIFO would block
		 * this worker for good, a device could do anything. The last
		 * component is not followed, so a symbolic link is not one
		 * either. dentry_open() checks no permission of its own.
		 */
		err = d_is_reg(path.dentry) ? 0 : -EBADMSG;
		if (!err)
			err = inode_permission(mnt_idmap(path.mnt), d_inode(path.dentry),
					       MAY_READ);
		if (err)
			path_put(&path);
	}
	revert_creds(old);
	if (err)
		return ERR_PTR(err);
	file = dentry_open(&path, O_RDONLY | O_LARGEFILE, st->cred);
	path_put(&path);
	return file;
}

/* Process context: the file of the block id of size bytes, for reading. */
struct file *cp_block_open_file(struct cp_store *st, const u8 *id, u64 size)
{
	char name[CP_NAME_LEN];

	cp_block_name(name, id, size);
	return open_name(st, name);
}

/*
 * Process context: the whole of the node's file name, at most max bytes,
 * into a buffer for the caller to kvfree(); ERR_PTR(-ENOENT) if there is
 * none, -EFBIG if it is longer.
 */
void *cp_store_read_file(struct cp_store *st, const char *name, size_t max, size_t *len)
{
	struct file *file = open_name(st, name);
	loff_t size, pos = 0;
	void *buf;
	ssize_t n;

	if (IS_ERR(file))
		return ERR_CAST(file);
	/*
	 * The node's own file: its owner's, and writable by no one else, or
	 * another user who may write in the directory could have put it there.
	 */
	if (!uid_eq(file_inode(file)->i_uid, st->cred->fsuid) ||
	    (file_inode(file)->i_mode & 0022)) {
		fput(file);
		return ERR_PTR(-EPERM);
	}
	size = i_size_read(file_inode(file));
	if (size > max) {
		fput(file);
		return ERR_PTR(-EFBIG);
	}
	buf = kvmalloc(size ?: 1, GFP_KERNEL);
	n = buf ? kernel_read(file, buf, size, &pos) : -ENOMEM;
	fput(file);
	if (n != size) {
		kvfree(buf);
		return ERR_PTR(n < 0 ? n : -EIO);
	}
	*len = size;
	return buf;
}

/*
 * Process context: a new file with no name in the cache directory, the
 * node's owner's. Creating it writes to the filesystem, so it is done
 * under mnt_want_write() as open(O_TMPFILE) is: a frozen filesystem makes
 * it wait, not write under the freeze.
 */
struct file *cp_store_tmpfile(struct cp_store *st)
{
	const struct cred *old = override_creds(st->cred);
	struct file *tmp;
	int err;

	err = mnt_want_write(st->dir.mnt);
	if (err) {
		tmp = ERR_PTR(err);
	} else {
		tmp = kernel_tmpfile_open(mnt_idmap(st->dir.mnt), &st->dir, S_IFREG | 0600,
					  O_RDWR | O_LARGEFILE, st->cred);
		mnt_drop_write(st->dir.mnt);
	}
	revert_creds(old);
	return tmp;
}

static int replace_unlink(struct cp_store *st, struct dentry *de, void *arg)
{
	if (d_is_negative(de))
		return 0;
	return vfs_unlink(mnt_idmap(st->dir.mnt), d_inode(st->dir.dentry), de, NULL);
}

/* For cp_store_with_dentry(): link the unnamed file arg under de; -EEXIST if taken. */
int cp_store_link_op(struct cp_store *st, struct dentry *de, void *arg)
{
	struct file *tmp = arg;

	if (d_is_positive(de))
		return -EEXIST;
	return vfs_link(tmp->f_path.dentry, mnt_idmap(st->dir.mnt), d_inode(st->dir.dentry),
			de, NULL);
}

/*
 * Process context: the cache directory synced, so that the names linked and
 * unlinked in it last survive a crash (fsync() of a file makes its data
 * durable, not the directory entry naming it).
 */
static int sync_dir(struct cp_store *st)
{
	struct file *dir = dentry_open(&st->dir, O_RDONLY | O_DIRECTORY | O_LARGEFILE, st->cred);
	int err;

	if (IS_ERR(dir))
		return PTR_ERR(dir);
	err = vfs_fsync(dir, 0);
	fput(dir);
	return err;
}

/*
 * Process context: name becomes a file of len bytes from buf, written and
 * synced under no name first, then linked and the directory synced. The old
 * file is unlinked before the new one is linked, so a crash between the two
 * leaves no file under name: callers that must always find one keep two
 * names and write them in turn.
 */
int cp_store_write_file(struct cp_store *st, const char *name, const void *buf, size_t len)
{
	struct file *tmp = cp_store_tmpfile(st);
	const struct cred *old;
	loff_t pos = 0;
	ssize_t n = 0;
	int err;

	if (IS_ERR(tmp))
		return PTR_ERR(tmp);
	old = override_creds(st->cred);
	while (len && n >= 0) {
		n = kernel_write(tmp, buf, len, &pos);
		if (n == 0)
			n = -EIO;
		if (n > 0) {
			buf += n;
			len -= n;
		}
	}
	revert_creds(old);
	err = n < 0 ? n : vfs_fsync(tmp, 0);
	if (!err)
		err = cp_store_with_dentry(st, name, replace_unlink, NULL);
	if (!err)
		err = cp_store_with_dentry(st, name, cp_store_link_op, tmp);
	if (!err)
		err = sync_dir(st);
	fput(tmp);
	return err;
}
