#!/bin/sh
# Back up Vouch: the PostgreSQL database (pg_dump, custom format) and the media folders (tar),
# into one new folder under DEST, with a checksum of each file. Safe while Vouch runs.
#
#   DATABASE_URL=postgres://vouch@db/vouch MEDIA_ROOT=/srv/vouch/var/media \
#   PRIVATE_MEDIA_ROOT=/srv/vouch/var/private docs/deploy/backup.sh /backups
#
# Prints the new folder's path. The database goes first: a file written after the dump is at
# worst an orphan after a restore, while one referenced by a row is already on disk (Vouch saves
# originals before it commits their rows). PG_BIN picks pg_dump's folder (its major version must
# be the server's or newer).
set -eu

dest=${1:?usage: backup.sh DEST_FOLDER}
: "${DATABASE_URL:?set DATABASE_URL}"
: "${MEDIA_ROOT:?set MEDIA_ROOT}"
: "${PRIVATE_MEDIA_ROOT:?set PRIVATE_MEDIA_ROOT}"
pg_bin=${PG_BIN:+$PG_BIN/}

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$dest/vouch-$stamp"
work="$out.partial"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

"${pg_bin}pg_dump" --format=custom --compress=6 --no-owner --no-privileges \
    --file="$work/database.dump" "$DATABASE_URL"
for name in media private; do
    if [ "$name" = media ]; then folder=$MEDIA_ROOT; else folder=$PRIVATE_MEDIA_ROOT; fi
    mkdir -p "$folder"
    # Numeric owners: the restore host may name its users differently.
    tar --create --file="$work/$name.tar" --numeric-owner --directory="$folder" .
done
(cd "$work" && sha256sum database.dump media.tar private.tar > SHA256SUMS)

mv "$work" "$out"  # complete, or not there at all
trap - EXIT
echo "$out"
