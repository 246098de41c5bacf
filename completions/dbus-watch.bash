# bash completion for dbus-watch(1)                        -*- shell-script -*-

declare -F _comp_gxkit_init >/dev/null ||
	source "${BASH_SOURCE[0]%/*}/gxkit-common" 2>/dev/null ||
	source "${BASH_SOURCE[0]%/*}/gxkit-common.bash"

_comp_cmd_dbus_watch()
{
	local cur prev words cword
	_comp_gxkit_init "$@" || return

	case $prev in
	--timeout | --fresh)
		COMPREPLY=($(compgen -W "1s 5s 30s 1m" -- "$cur"))
		return ;;
	--address | --max-rss | --tag)
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "--once --get --set --check --fresh --text --timeout
			--system --session --address --max-rss --tag --help --usage
			--version --quiet --verbose" -- "$cur"))
		return
	fi
	# service names on the bus, when one is reachable
	local names
	names=$(dbus-send --print-reply --dest=org.freedesktop.DBus / \
		org.freedesktop.DBus.ListNames 2>/dev/null |
		awk -F'"' '/string "com\.victronenergy/ { print $2 }')
	COMPREPLY=($(compgen -W "$names" -- "$cur"))
}
complete -F _comp_cmd_dbus_watch dbus-watch
