#!/bin/busybox sh
# /init of the module check guest (scripts/run-qemu.sh --module): Debian's
# stock kernel, no network device. Rank 0 is ternion.ko, in the kernel;
# ranks 1 and 2 are hosted `ternion demo` processes; all three meet on
# loopback with secure links. The kernel hands the command line's unknown
# KEY=VALUE words to init as its environment: TERNION_SESSION and
# TERNION_PUBLIC_KEYS. Each rank's TERNION_KEY<r> (64 hex digits) is in
# /ternion-secrets, an archive appended to the initramfs, so that no key is on
# the command line the kernel prints.
/bin/busybox --install -s /bin
# shellcheck disable=SC1091
. /ternion-secrets
rm -f /ternion-secrets
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
ip link set lo up

peers=127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002
umask 077
pids=""
for r in 1 2; do
  eval "key=\$TERNION_KEY$r"
  echo "$key" >/party$r.key
  TERNION_RANK=$r TERNION_PEERS=$peers TERNION_PRIVATE_KEY_FILE=/party$r.key \
    TERNION_AEAD=chacha20-poly1305 /ternion demo >/demo$r.log 2>&1 &
  pids="$pids $!"
done

env_words="TERNION_RANK=0 TERNION_PEERS=$peers TERNION_SESSION=$TERNION_SESSION"
env_words="$env_words TERNION_PRIVATE_KEY=$TERNION_KEY0 TERNION_PUBLIC_KEYS=$TERNION_PUBLIC_KEYS"
env_words="$env_words TERNION_AEAD=chacha20-poly1305"
if insmod /ternion.ko "env=\"$env_words\"" args=demo; then
  loaded=1
else
  echo "ternion-module-check: insmod failed"
  loaded=0
fi

hosted=""
for pid in $pids; do
  wait "$pid"
  hosted="$hosted $?"
done
# Unloading waits for the in-kernel party, which prints its exit code.
[ "$loaded" = 1 ] && rmmod ternion
for r in 1 2; do
  sed "s/^/ternion-module-check: rank $r: /" /demo$r.log
done
echo "ternion-module-check: hosted exit codes$hosted"
reboot -f
