# bash completion for gw-scan(1)                           -*- shell-script -*-

_comp_cmd_gw_scan()
{
	local cur prev words cword
	if declare -F _comp_initialize >/dev/null; then
		_comp_initialize -n : -- "$@" || return
	else
		_init_completion -n : || return
	fi
	declare -F _comp_gxkit_maps >/dev/null ||
		source "$(dirname "${BASH_SOURCE[0]}")/gw-read" 2>/dev/null ||
		source "$(dirname "${BASH_SOURCE[0]}")/gw-read.bash" 2>/dev/null

	case $prev in
	-b | --bus)
		declare -F _comp_gxkit_bus >/dev/null && _comp_gxkit_bus
		return ;;
	-m | --map)
		declare -F _comp_gxkit_maps >/dev/null && _comp_gxkit_maps
		return ;;
	--timeout | --every)
		COMPREPLY=($(compgen -W "50ms 100ms 200ms 1m 10m 1h" -- "$cur"))
		return ;;
	-u | --units | -n | --count | --max-rss)
		return ;;
	esac
	COMPREPLY=($(compgen -W "--bus --units --map --timeout --every --count
		--progress --max-rss --help --usage --version --quiet --verbose" \
		-- "$cur"))
}
complete -F _comp_cmd_gw_scan gw-scan
