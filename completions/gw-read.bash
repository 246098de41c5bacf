# bash completion for gw-read(1)                           -*- shell-script -*-

declare -F _comp_gxkit_init >/dev/null ||
	source "${BASH_SOURCE[0]%/*}/gxkit-common" 2>/dev/null ||
	source "${BASH_SOURCE[0]%/*}/gxkit-common.bash"

_comp_cmd_gw_read()
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
	--fc)
		COMPREPLY=($(compgen -W "input holding" -- "$cur"))
		return ;;
	--format)
		COMPREPLY=($(compgen -W "jsonl csv" -- "$cur"))
		return ;;
	-i | --interval | --timeout | --gap | --backoff-after | --backoff)
		COMPREPLY=($(compgen -W "100ms 500ms 1s 5s 30s 60s" -- "$cur"))
		return ;;
	-r | --register)
		# with a map: its register names
		local i
		for ((i = 1; i < cword - 1; i++)); do
			[[ ${words[i]} == -m || ${words[i]} == --map ]] &&
				_comp_gxkit_registers "${words[i + 1]}"
		done
		return ;;
	-u | --units | -n | --count | --max-rss | --tag | -w | --write)
		return ;;
	--commands)
		_comp_gxkit_filedir
		return ;;
	esac
	COMPREPLY=($(compgen -W "--bus --units --map --register --fc --interval
		--count --format --timeout --gap --backoff-after --backoff
		--write --force --commands --max-rss --tag --help --usage --version --quiet
		--verbose" -- "$cur"))
}
complete -F _comp_cmd_gw_read gw-read
