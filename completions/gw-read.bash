# bash completion for gw-read(1)                           -*- shell-script -*-

# map names: shipped maps, then CSV files
_comp_gxkit_maps()
{
	local dirs="${GXKIT_MAPS:-} /usr/local/share/gxkit/maps /usr/share/gxkit/maps" d f names=""
	for d in $dirs; do
		for f in "$d"/*.csv; do
			[[ -e $f ]] && names+=" $(basename "$f" .csv)"
		done
	done
	COMPREPLY=($(compgen -W "$names" -- "$cur"))
	_filedir csv
}

_comp_gxkit_bus()
{
	if [[ $cur == rtu:* ]]; then
		COMPREPLY=($(compgen -P rtu: -W "$(command ls /dev/ttyUSB* /dev/ttyACM* /dev/ttyS* 2>/dev/null)" -- "${cur#rtu:}"))
	else
		COMPREPLY=($(compgen -W "rtu:/dev/ttyUSB0 tcp:127.0.0.1:502" -- "$cur"))
	fi
}

_comp_cmd_gw_read()
{
	local cur prev words cword
	if declare -F _comp_initialize >/dev/null; then
		_comp_initialize -n : -- "$@" || return
	else
		_init_completion -n : || return
	fi

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
	-u | --units | -r | --register | -n | --count | --max-rss)
		return ;;
	esac
	COMPREPLY=($(compgen -W "--bus --units --map --register --fc --interval
		--count --format --timeout --gap --backoff-after --backoff
		--max-rss --help --usage --version --quiet --verbose" -- "$cur"))
}
complete -F _comp_cmd_gw_read gw-read
