#!/bin/sh
# Restore a backup made by backup.sh: the database (its schema rebuilt in one transaction) and
# the media folders (replaced whole). Stop the web, workers and beat first (docs/deploy.md).
#
#   DATABASE_URL=... MEDIA_ROOT=... PRIVATE_MEDIA_ROOT=... docs/deploy/restore.sh /backups/vouch-20260101T000000Z
#
# Checks every checksum before touching anything. The database must exist (createdb it on a new
# host). Each media folder is unpacked beside the old one and swapped in; the old one is removed
# only once everything was restored.
set -eu

backup=${1:?usage: restore.sh BACKUP_FOLDER}
: "${DATABASE_URL:?set DATABASE_URL}"
: "${MEDIA_ROOT:?set MEDIA_ROOT}"
: "${PRIVATE_MEDIA_ROOT:?set PRIVATE_MEDIA_ROOT}"
pg_bin=${PG_BIN:+$PG_BIN/}

(cd "$backup" && sha256sum --check --quiet SHA256SUMS) || {
    echo "restore.sh: $backup fails its checksums; nothing was changed" >&2
    exit 1
}

for name in media private; do
    if [ "$name" = media ]; then folder=$MEDIA_ROOT; else folder=$PRIVATE_MEDIA_ROOT; fi
    rm -rf "$folder.restoring"
    mkdir -p "$folder.restoring"
    tar --extract --file="$backup/$name.tar" --directory="$folder.restoring" --same-permissions
done

# The schema is emptied and rebuilt in the same transaction as the restore (pg_restore --clean cannot
# drop the day partitions of analytics' event table one by one): any error leaves the database as it was.
{
    echo 'DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;'
    "${pg_bin}pg_restore" --no-owner --no-privileges --file=- "$backup/database.dump"
} | "${pg_bin}psql" --quiet --no-psqlrc --single-transaction -v ON_ERROR_STOP=1 --output=/dev/null "$DATABASE_URL"

for name in media private; do
    if [ "$name" = media ]; then folder=$MEDIA_ROOT; else folder=$PRIVATE_MEDIA_ROOT; fi
    rm -rf "$folder.replaced"
    if [ -e "$folder" ]; then mv "$folder" "$folder.replaced"; fi
    mv "$folder.restoring" "$folder"
done
for name in media private; do
    if [ "$name" = media ]; then folder=$MEDIA_ROOT; else folder=$PRIVATE_MEDIA_ROOT; fi
    rm -rf "$folder.replaced"
done
echo "restored $backup"
