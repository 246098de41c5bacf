# bash completion for heap-watch(1)                        -*- shell-script -*-

declare -F _comp_gxkit_init >/dev/null ||
	source "${BASH_SOURCE[0]%/*}/gxkit-common" 2>/dev/null ||
	source "${BASH_SOURCE[0]%/*}/gxkit-common.bash"

_comp_cmd_heap_watch()
{
	local cur prev words cword
	_comp_gxkit_init "$@" || return

	case $prev in
	-i | --interval)
		COMPREPLY=($(compgen -W "1s 10s 60s 5m" -- "$cur"))
		return ;;
	--rate)
		COMPREPLY=($(compgen -W "4K 64K 512K 1M" -- "$cur"))
		return ;;
	--unwind)
		COMPREPLY=($(compgen -W "eh scan" -- "$cur"))
		return ;;
	-o | --output)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--depth | --top | --callers | --tag | --max-rss)
		return ;;
	esac

	# after the command name everything belongs to the command
	_comp_gxkit_command_word && return
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "--interval --rate --depth --top --callers
			--output --raw --children --unwind --max-rss --tag --help --usage
			--version --quiet --verbose" -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -c -- "$cur"))
}
complete -F _comp_cmd_heap_watch heap-watch
