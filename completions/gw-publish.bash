# bash completion for gw-publish(1)                        -*- shell-script -*-

declare -F _comp_gxkit_init >/dev/null ||
	source "${BASH_SOURCE[0]%/*}/gxkit-common" 2>/dev/null ||
	source "${BASH_SOURCE[0]%/*}/gxkit-common.bash"

_comp_cmd_gw_publish()
{
	local cur prev words cword
	_comp_gxkit_init "$@" || return

	case $prev in
	-s | --service)
		COMPREPLY=($(compgen -W "com.victronenergy.pvinverter.
			com.victronenergy.grid. com.victronenergy.battery." -- "$cur"))
		compopt -o nospace 2>/dev/null
		return ;;
	-m | --map)
		COMPREPLY=($(compgen -W "growatt-v120 growatt-v315" -- "$cur"))
		_comp_gxkit_filedir csv
		return ;;
	--signals)
		COMPREPLY=($(compgen -W "items properties both" -- "$cur"))
		return ;;
	--position)
		COMPREPLY=($(compgen -W "0 1 2" -- "$cur"))
		return ;;
	--stale-after)
		COMPREPLY=($(compgen -W "10s 30s 1m" -- "$cur"))
		return ;;
	--product-name | --product-id | --firmware-version | --custom-name | \
		--instance | --address | --max-rss | --max-line | --max-paths | \
		--max-power | --min-write-interval)
		return ;;
	esac
	COMPREPLY=($(compgen -W "--service --map --product-name --product-id
		--firmware-version --position --custom-name --instance --signals
		--stale-after --system --session --address --commands --max-power
		--min-write-interval --max-line --max-paths
		--max-rss --help
		--usage --version --quiet --verbose" -- "$cur"))
}
complete -F _comp_cmd_gw_publish gw-publish
