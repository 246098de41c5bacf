# bash completion for gw-scan(1)                           -*- shell-script -*-

declare -F _comp_gxkit_init >/dev/null ||
	source "${BASH_SOURCE[0]%/*}/gxkit-common" 2>/dev/null ||
	source "${BASH_SOURCE[0]%/*}/gxkit-common.bash"

_comp_cmd_gw_scan()
{
	local cur prev words cword
	_comp_gxkit_init "$@" || return

	case $prev in
	-b | --bus)
		_comp_gxkit_bus
		return ;;
	-m | --map)
		_comp_gxkit_maps
		return ;;
	--timeout | --every)
		COMPREPLY=($(compgen -W "50ms 100ms 200ms 1m 10m 1h" -- "$cur"))
		return ;;
	-u | --units | -n | --count | --max-rss | --tag)
		return ;;
	esac
	COMPREPLY=($(compgen -W "--bus --units --map --timeout --every --count
		--progress --max-rss --tag --help --usage --version --quiet --verbose" \
		-- "$cur"))
}
complete -F _comp_cmd_gw_scan gw-scan
