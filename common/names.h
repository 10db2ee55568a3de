/*
 * Validation of user-supplied names: buckets, objects, providers.
 */
#ifndef AIS_COMMON_NAMES_H
#define AIS_COMMON_NAMES_H

#include <stddef.h>

/*
 * Bucket name: 1..AIS_BCKNAME_BYTES_MAX of [A-Za-z0-9._-], not "." or "..".
 * Returns 0 or AIS_EBADNAME with a reason in why (static string) when why != NULL.
 */
int ais_bck_name_check(const char *name, const char **why);

/*
 * Object name (decoded bytes, len given so embedded NULs are seen): non-empty, at most
 * AIS_OBJNAME_BYTES_MAX bytes, no NUL or control bytes, no leading or trailing '/', no empty,
 * "." or ".." segments, no segment longer than AIS_NAME_COMPONENT_BYTES_MAX.
 * Returns 0, -ENAMETOOLONG (too long) or AIS_EBADNAME; why gets a static reason.
 */
int ais_obj_name_check(const char *name, size_t len, const char **why);

/*
 * Normalises a provider query value: ""/NULL/"local" -> "ais", "s3" -> "aws", "gs" -> "gcp",
 * "cloud" -> "aws". Returns the canonical static string or NULL when unknown.
 */
const char *ais_provider_norm(const char *p);

#endif
