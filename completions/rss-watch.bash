# bash completion for rss-watch(1)                         -*- shell-script -*-

declare -F _comp_gxkit_init >/dev/null ||
	source "${BASH_SOURCE[0]%/*}/gxkit-common" 2>/dev/null ||
	source "${BASH_SOURCE[0]%/*}/gxkit-common.bash"

_comp_cmd_rss_watch()
{
	local cur prev words cword
	_comp_gxkit_init "$@" || return

	case $prev in
	-p | --pid)
		COMPREPLY=($(compgen -W "$(command ls /proc | grep -E '^[0-9]+$')" -- "$cur"))
		return ;;
	-N | --name)
		COMPREPLY=($(compgen -W "$(command ps -eo comm= 2>/dev/null | sort -u)" -- "$cur"))
		return ;;
	--limit-field)
		COMPREPLY=($(compgen -W "rss_kb anon_kb file_kb shmem_kb swap_kb vsz_kb hwm_kb threads fds pss_kb uss_kb nproc" -- "$cur"))
		return ;;
	--action)
		COMPREPLY=($(compgen -W "exit term kill HUP INT QUIT USR1 USR2 TERM KILL" -- "$cur"))
		return ;;
	-i | --interval | -d | --duration | --grace)
		COMPREPLY=($(compgen -W "500ms 1s 5s 10s 60s 1h" -- "$cur"))
		return ;;
	-n | --count | --limit | --max-rss | --tag | --maps-every)
		return ;;
	esac

	# after the command name everything belongs to the command
	_comp_gxkit_command_word && return
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "--pid --name --wait --interval --count
			--duration --pss --children --maps --maps-every --limit
			--limit-field --action
			--grace --max-rss --tag --help --usage --version --quiet --verbose" \
			-- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -c -- "$cur"))
}
complete -F _comp_cmd_rss_watch rss-watch
