#!/bin/sh
# gxkit installer for Venus OS (and any root directory that looks like one).
#
#   install.sh [--root DIR]                   the tools into DIR/data/gxkit
#   install.sh --bridge NAME -b SPEC -u IDS -m MAP [-i DUR] [--max-rss SIZE]
#              [--limit WATTS|map] [--log-dir DIR] [--root DIR]
#                                             a gw-read | gw-publish service;
#                                             --limit: with the control path
#                                             (/Ac/PowerLimit, rated WATTS,
#                                             or the map's rated power)
#   install.sh --monitor NAME -N PROCESS [-i DUR] [--publish HOST[:PORT]
#              --topic PREFIX [--host ID]] [--log-dir DIR] [--root DIR]
#                                             an rss-watch service: records
#                                             to its log, or with --publish
#                                             by mosquitto_pub -l to
#                                             PREFIX/ID/rss, tagged host=ID
#                                             (ID: the hostname by default)
#   install.sh --remove NAME [--root DIR]     undo one service
#   install.sh --uninstall [--root DIR]       undo everything
#
# Venus keeps /data across firmware updates and rebuilds /service in RAM at
# every boot: a service lives in /data/gxkit/service/NAME, is linked into
# /service, and one line in /data/rc.local links it again at boot.  Running
# the same command twice changes nothing.  POSIX sh: Venus has no bash.
set -eu

prog=${0##*/}
here=$(cd "$(dirname "$0")" && pwd -P)
root=/
action=install
name= bus= units= map= interval=5s max_rss=24M log_dir=/var/log limit=
# multilog's rotation: a bridge's log is for people, 4 x 25 kB; a
# monitor's is the records a judge in cron reads back (--last 24h): 5 x
# 1 MB keep about ten days of 60 s samples
log_keep='s25000 n4'
process= publish= topic= host_id=

die() {
	echo "$prog: $*" >&2
	exit 1
}

usage() {
	echo "$prog: $*" >&2
	echo "Try '$prog --help'." >&2
	exit 2
}

help() {
	sed -n '2,23s/^# \{0,1\}//p' "$0"
	exit 0
}

need_arg() { [ $# -ge 2 ] || usage "$1 needs a value"; }

while [ $# -gt 0 ]; do
	case $1 in
	--root) need_arg "$@"; root=$2; shift ;;
	--bridge) need_arg "$@"; action=bridge; name=$2; shift ;;
	--remove) need_arg "$@"; action=remove; name=$2; shift ;;
	--monitor) need_arg "$@"; action=monitor; name=$2; shift ;;
	-N) need_arg "$@"; process=$2; shift ;;
	--publish) need_arg "$@"; publish=$2; shift ;;
	--topic) need_arg "$@"; topic=$2; shift ;;
	--host) need_arg "$@"; host_id=$2; shift ;;
	--uninstall) action=uninstall ;;
	-b) need_arg "$@"; bus=$2; shift ;;
	-u) need_arg "$@"; units=$2; shift ;;
	-m) need_arg "$@"; map=$2; shift ;;
	-i) need_arg "$@"; interval=$2; shift ;;
	--max-rss) need_arg "$@"; max_rss=$2; shift ;;
	--limit) need_arg "$@"; limit=$2; shift ;;
	--log-dir) need_arg "$@"; log_dir=$2; shift ;;
	-h | --help) help ;;
	*) usage "unknown argument '$1'" ;;
	esac
	shift
done

[ -d "$root" ] || die "no directory '$root'"
root=$(cd "$root" && pwd -P)
data=${root%/}/data
gxkit=$data/gxkit
services=${root%/}/service
rc=$data/rc.local

# a service NAME: one D-Bus name element and one directory name
check_name() {
	case $1 in
	"" | *[!A-Za-z0-9_]* | [0-9]*)
		usage "'$1' is not a service name (letters, digits, _; not a digit first)" ;;
	esac
}

# 'text' for a shell script, whatever text holds
quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

# write FILE MODE: standard input into FILE, only when it differs (the
# comparison in a temporary file elsewhere: FILE's directory is touched
# only by a change)
write() {
	cmpfile=$(mktemp)
	cat >"$cmpfile"
	if [ -f "$1" ] && cmp -s "$cmpfile" "$1"; then
		rm -f "$cmpfile"
		return 0
	fi
	cp "$cmpfile" "$1.new.$$"
	rm -f "$cmpfile"
	chmod "$2" "$1.new.$$"
	mv -f "$1.new.$$" "$1"
	echo "$prog: wrote ${1#"${root%/}"}"
}

# same DIR1 DIR2: the same files with the same contents
same() {
	[ -d "$2" ] || return 1
	(cd "$1" && find . -type f) | while read -r f; do
		cmp -s "$1/$f" "$2/$f" || { echo differ; break; }
	done | grep -q differ && return 1
	[ "$(cd "$1" && find . -type f | wc -l)" = "$(cd "$2" && find . -type f | wc -l)" ]
}

install_tools() {
	[ -x "$here/bin/gw-read" ] || die "no bin/ next to $0: run it from the unpacked tarball"
	mkdir -p "$gxkit"
	[ "$here" = "$(cd "$gxkit" && pwd -P)" ] && return 0
	# bin, share and lib (heap-watch's preload library), each replaced whole
	same "$here/bin" "$gxkit/bin" && same "$here/share" "$gxkit/share" &&
		same "$here/lib" "$gxkit/lib" &&
		cmp -s "$here/install.sh" "$gxkit/install.sh" && return 0
	for d in bin share lib; do
		rm -rf "$gxkit/$d.new"
		[ ! -d "$here/$d" ] || cp -R "$here/$d" "$gxkit/$d.new"
	done
	for d in bin share lib; do
		[ -d "$gxkit/$d.new" ] || continue
		rm -rf "$gxkit/$d"
		mv "$gxkit/$d.new" "$gxkit/$d"
	done
	cp "$here/install.sh" "$gxkit/install.sh"
	[ ! -f "$here/README" ] || cp "$here/README" "$gxkit/README"
	echo "$prog: tools in ${gxkit#"${root%/}"}/bin"
}

# the run script of a bridge: both sides started here through a FIFO, so
# that a signal from supervise, or either side ending, ends both at once
# (a plain pipeline would leave them running, and a restart would open
# the serial port twice)
run_script() {
	case $units in
	*[,-]*) service="com.victronenergy.pvinverter.${name}_{unit}" ;;
	*) service="com.victronenergy.pvinverter.$name" ;;
	esac
	control_read= control_publish=
	if [ -n "$limit" ]; then
		control_read=" --commands commands.fifo"
		control_publish=" --commands commands.fifo"
		[ "$limit" = map ] ||
			control_publish="$control_publish --max-power $(quote "$limit")"
	fi
	cat <<EOF
#!/bin/sh
# gxkit bridge $name, made by install.sh: gw-read | gw-publish under
# daemontools' supervise.  Paths are relative to this directory, which
# supervise makes the working directory.
exec 2>&1
bin=\$(cd -P ../../bin && pwd -P)
$([ -z "$limit" ] || echo '[ -p commands.fifo ] || { rm -f commands.fifo; mkfifo commands.fifo; }')
EOF
	fifo_pair bridge.fifo \
		"\"\$bin/gw-read\" -b $(quote "$bus") -u $(quote "$units") -m $(quote "$map") \\
	-i $(quote "$interval") --max-rss $(quote "$max_rss")$control_read" \
		"\"\$bin/gw-publish\" -s $(quote "$service") -m $(quote "$map") \\
	--max-rss $(quote "$max_rss")$control_publish"
}

# The end of a run script: WRITER into FIFO and READER from it, both
# started here so that a signal from supervise, or the reader ending,
# ends both at once.
fifo_pair() { # FIFO WRITER READER
	cat <<EOF
[ -p $1 ] || { rm -f $1; mkfifo $1; }
$2 >$1 &
writer=\$!
$3 <$1 &
reader=\$!
trap 'kill \$writer \$reader 2>/dev/null' TERM INT HUP
wait \$reader || :
kill \$writer 2>/dev/null || :
wait \$writer || :
EOF
}

# the run script of a monitor: rss-watch following PROCESS by name, its
# records to the log, or with --publish to the broker through a FIFO (both
# ended together, as the bridge's); without mosquitto_pub on the device
# they stay in the log, which says so once
monitor_script() {
	case $publish in
	*:*) mq_host=${publish%:*} mq_port=${publish##*:} ;;
	*) mq_host=$publish mq_port=1883 ;;
	esac
	if [ -n "$host_id" ]; then host_line=$(quote "$host_id"); else host_line='$(hostname)'; fi
	cat <<EOF
#!/bin/sh
# gxkit monitor $name, made by install.sh: rss-watch -N $(quote "$process")
# under daemontools' supervise.
exec 2>&1
bin=\$(cd -P ../../bin && pwd -P)
host=$host_line
watch() {
	exec "\$bin/rss-watch" -N $(quote "$process") --wait -i $(quote "$interval") \\
		--max-rss $(quote "$max_rss") --tag host="\$host"
}
EOF
	if [ -z "$publish" ]; then
		echo 'watch'
		return
	fi
	cat <<EOF
command -v mosquitto_pub >/dev/null 2>&1 || {
	echo "no mosquitto_pub here: the records go to the log"
	watch
}
EOF
	fifo_pair records.fifo watch \
		"mosquitto_pub -h $(quote "$mq_host") -p $(quote "$mq_port") -q 1 -l \\
	-t $(quote "$topic")/\"\$host\"/rss"
}

rc_line() { echo "ln -sfn /data/gxkit/service/$1 /service/$1"; }

install_bridge() {
	check_name "$name"
	[ -n "$bus" ] && [ -n "$units" ] && [ -n "$map" ] ||
		usage "--bridge needs -b SPEC, -u IDS and -m MAP"
	case $bus in rtu:/* | tcp:?*) ;; *) usage "-b: '$bus' is not rtu:DEVICE or tcp:HOST" ;; esac
	case $units in *[!0-9,-]* | "") usage "-u: '$units' is not a unit list (1,5 or 1-3)" ;; esac
	case $limit in map) ;; *[!0-9]*) usage "--limit: '$limit' is not a power in W, or map" ;; esac
	install_service run_script
}

install_monitor() {
	check_name "$name"
	[ -n "$process" ] || usage "--monitor needs -N PROCESS"
	[ -z "$publish" ] || [ -n "$topic" ] || usage "--publish needs --topic PREFIX"
	[ -n "$publish" ] || [ -z "$topic$host_id" ] || usage "--topic and --host go with --publish"
	case $publish in
	*:*[!0-9]* | *:) usage "--publish: '$publish' is not HOST[:PORT]" ;;
	esac
	case $topic in *[#+]*) usage "--topic: '$topic' is a prefix, not a filter" ;; esac
	[ "$interval" != 5s ] || interval=60s
	log_keep='s1000000 n5'
	install_service monitor_script
}

# the service NAME whose run script the function $1 writes, with its
# multilog, its link into /service and its line in rc.local
install_service() {
	install_tools
	dir=$gxkit/service/$name
	mkdir -p "$dir/log" "$services"
	"$1" | write "$dir/run" 755
	printf '#!/bin/sh\nexec multilog t %s %s\n' "$log_keep" "$(quote "$log_dir/$name")" |
		write "$dir/log/run" 755
	if [ "$(readlink "$services/$name" 2>/dev/null)" != "../data/gxkit/service/$name" ]; then
		ln -sfn "../data/gxkit/service/$name" "$services/$name"
		echo "$prog: linked ${services#"${root%/}"}/$name"
	fi
	[ -f "$rc" ] || printf '#!/bin/sh\n' | write "$rc" 755
	if ! grep -qxF "$(rc_line "$name")" "$rc"; then
		rc_line "$name" >>"$rc"
		chmod 755 "$rc"
		echo "$prog: ${rc#"${root%/}"} links it at boot"
	fi
}

# stop a supervised directory if supervise runs it
stop_supervised() {
	if command -v svok >/dev/null 2>&1 && svok "$1" 2>/dev/null; then
		svc -dx "$1"
	fi
}

remove_bridge() {
	check_name "$1"
	dir=$gxkit/service/$1
	rm -f "$services/$1"
	[ -d "$dir" ] && stop_supervised "$dir/log" && stop_supervised "$dir"
	if [ -f "$rc" ] && grep -qxF "$(rc_line "$1")" "$rc"; then
		grep -vxF "$(rc_line "$1")" "$rc" | write "$rc" 755
	fi
	rm -rf "$dir"
	echo "$prog: removed $1"
}

case $action in
install) install_tools ;;
bridge) install_bridge ;;
monitor) install_monitor ;;
remove) remove_bridge "$name" ;;
uninstall)
	if [ -d "$gxkit/service" ]; then
		for d in "$gxkit"/service/*/; do
			[ -d "$d" ] && remove_bridge "$(basename "$d")"
		done
	fi
	rm -rf "$gxkit"
	echo "$prog: removed ${gxkit#"${root%/}"}"
	;;
esac
