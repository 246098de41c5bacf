# bash completion for gw-sim(1)                            -*- shell-script -*-

_comp_cmd_gw_sim()
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
		COMPREPLY=($(compgen -W "tcp:127.0.0.1:1502 rtu:" -- "$cur"))
		return ;;
	-m | --map)
		declare -F _comp_gxkit_maps >/dev/null && _comp_gxkit_maps
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
