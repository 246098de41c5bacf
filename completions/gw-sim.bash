# bash completion for gw-sim(1)                            -*- shell-script -*-

declare -F _comp_gxkit_init >/dev/null ||
	source "${BASH_SOURCE[0]%/*}/gxkit-common" 2>/dev/null ||
	source "${BASH_SOURCE[0]%/*}/gxkit-common.bash"

_comp_cmd_gw_sim()
{
	local cur prev words cword
	_comp_gxkit_init "$@" || return

	case $prev in
	-b | --bus)
		COMPREPLY=($(compgen -W "tcp:127.0.0.1:1502 rtu:" -- "$cur"))
		return ;;
	-m | --map)
		_comp_gxkit_maps
		return ;;
	--time)
		COMPREPLY=($(compgen -W "06:00 09:00 12:00 18:00 23:00" -- "$cur"))
		return ;;
	--offline-after | --offline-for | --latency)
		COMPREPLY=($(compgen -W "100ms 1s 10s 1m" -- "$cur"))
		return ;;
	-u | --units | --peak | --exception-rate | --corrupt-rate | --seed | --max-rss)
		return ;;
	esac
	COMPREPLY=($(compgen -W "--bus --map --units --time --peak --offline-after
		--offline-for --exception-rate --corrupt-rate --latency --seed
		--max-rss --help --usage --version --quiet --verbose" -- "$cur"))
}
complete -F _comp_cmd_gw_sim gw-sim
