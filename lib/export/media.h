/*
 * media.h — helpers shared by `extract`, `export` and `info` for the media
 * values of history rows (spec/FORMAT.md §12): image maps, lists of image
 * maps and table maps; and the file names that `runlog extract --images`
 * gives images (spec/EXPORTS.md "Image file names").
 */
#ifndef RUNLOG_EXPORT_MEDIA_H
#define RUNLOG_EXPORT_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include "rlu.h"

typedef enum media_kind {
    MEDIA_NONE = 0,  /* any other value */
    MEDIA_IMAGE = 1, /* {"_type": "image", ...} */
    MEDIA_IMAGES = 2, /* a non-empty list of image maps */
    MEDIA_TABLE = 3  /* {"_type": "table", ...} */
} media_kind;

media_kind media_kind_of(const runlog_value *v);

/* Image i of a history cell of kind MEDIA_IMAGE (i == 0) or MEDIA_IMAGES,
 * and the number of its images. Both take constant time and trust the kind:
 * call them only on a cell that media_kind_of() gave one of those two. */
const runlog_value *media_image_at(const runlog_value *v, size_t i);
size_t media_image_count(const runlog_value *v);

/* Longest name media_image_name() writes, NUL included (NAME_MAX + 1). */
#define MEDIA_NAME_MAX 256

/*
 * The file name of an image: "<key>_<step>_<index>.<ext>" for a history
 * image, "<key>_<step>_<row>_<column>.<ext>" for a table cell (column !=
 * NULL; index is then the row). "/", "\\" and control bytes of key and
 * column become "_"; the key is cut (at a UTF-8 boundary) so that the name
 * fits in 255 bytes. ext is "jpg" for JPEG images, else "png".
 */
void media_image_name(char out[MEDIA_NAME_MAX], const char *key, uint64_t step, size_t index,
                      const char *column, const runlog_value *image);

/* Writes a map (an image, table or artifact map) as a JSON object: every
 * entry as tj_value() would, except that a 16-byte "digest" entry of this
 * map or of a map nested in it is written as 32 hex digits; then
 * "file": file when file is not NULL. */
int media_json(rlu_json *j, const runlog_value *map, const char *file);

/* Creates the parent folders of rel under the folder dirfd, one component at
 * a time with mkdirat() and O_NOFOLLOW|O_DIRECTORY opens from dirfd, so that
 * a symbolic link planted in the target (or in the run-log's paths), or a
 * folder swapped for one while this runs, is never followed; rel was checked
 * by runlog_artifact_path_check(). Returns the descriptor of rel's parent
 * (the caller closes it) with *leaf pointing at rel's last component, or -1
 * with errno set (ELOOP for a link, ENOTDIR for a file on the way). */
int media_open_parent(int dirfd, const char *rel, const char **leaf);
/* media_open_parent() for a caller that only needs the folders. 0 or -1. */
int media_make_parents(int dirfd, const char *rel);

/* Writes blob d to dirfd/rel: its parent reached by media_open_parent(), a
 * temporary file of a random name created there exclusively, the checked
 * bytes (runlog_reader_blob_to_fd()), then renamed over the leaf — every
 * step relative to a descriptor, never by a path that a swapped folder could
 * redirect. An existing leaf is replaced only when it is a regular file and
 * not the file `input` (NULL: no such check). shown names the target in
 * messages. 0, or an error (RUNLOG_ESTATE: something that must not be
 * replaced or followed stands in the way; RUNLOG_ECORRUPT: want_size >= 0
 * and the blob holds another number of bytes, nothing left at the leaf). */
int media_blob_to_fileat(runlog_reader *r, const runlog_digest *d, int dirfd, const char *rel,
                         const char *shown, const char *input, int64_t want_size);

/* The digest of a media map as hex ("?" * 32 when it has none). */
void media_digest_hex(char out[33], const runlog_value *map);

/* Parts of a table document (runlog_reader_table()): column count, the
 * name and type name of column c, and the list of cells of column c.
 * NULL / 0 when the document is malformed. */
size_t media_table_ncols(const runlog_value *doc);
size_t media_table_nrows(const runlog_value *doc);
const char *media_table_column(const runlog_value *doc, size_t c);
const char *media_table_type(const runlog_value *doc, size_t c);
const runlog_value *media_table_cell(const runlog_value *doc, size_t row, size_t c);

/* What `info` counts: tables and images in history rows, and the image
 * cells of those tables (rows x image columns, from the table maps; the
 * table blobs are not read). */
typedef struct media_counts {
    uint64_t tables, images, table_images;
} media_counts;

/* Adds the media of one history row to c. */
void media_count_row(media_counts *c, const runlog_record *rec);

#endif
