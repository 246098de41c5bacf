# bash completion for leak-classify(1)                     -*- shell-script -*-

declare -F _comp_gxkit_init >/dev/null ||
	source "${BASH_SOURCE[0]%/*}/gxkit-common" 2>/dev/null ||
	source "${BASH_SOURCE[0]%/*}/gxkit-common.bash"

_comp_cmd_leak_classify()
{
	local cur prev words cword
	_comp_gxkit_init "$@" || return

	case $prev in
	-f | --field)
		COMPREPLY=($(compgen -W "anon_kb rss_kb pss_kb uss_kb file_kb shmem_kb swap_kb vsz_kb hwm_kb threads fds free_heap mem_available ram" -- "$cur"))
		return ;;
	--events | --svg)
		_comp_gxkit_filedir
		return ;;
	--horizon)
		COMPREPLY=($(compgen -W "1h 6h 24h 7d" -- "$cur"))
		return ;;
	--warmup)
		COMPREPLY=($(compgen -W "auto 0 30s 5m 10m" -- "$cur"))
		return ;;
	--format)
		COMPREPLY=($(compgen -W "auto jsonl psrecord mprof prmon csv" -- "$cur"))
		return ;;
	--min-rate)
		COMPREPLY=($(compgen -W "1%/day 50B/min 1K/h 1M/d" -- "$cur"))
		return ;;
	--last | --max-age)
		COMPREPLY=($(compgen -W "15m 1h 6h 24h 7d" -- "$cur"))
		return ;;
	--time-field)
		COMPREPLY=($(compgen -W "ts time timestamp t" -- "$cur"))
		return ;;
	-p | --pid | --limit | --alpha | --min-samples | \
		--settle-ratio | --envelope-share | --step-share | --windows | \
		--penalty | --material | --max-line | --child | --alloc-field | --by | --expire | --max-groups | \
		--edge | --fault-event)
		return ;;
	--restart-event)
		COMPREPLY=($(compgen -W "connection_lost reboot" -- "$cur"))
		return ;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "--field --falling --rising --pid --limit
			--horizon --events --json --svg --alpha --min-rate
			--min-samples --settle-ratio --envelope-share --step-share
			--windows --warmup --penalty --material --max-line --format
			--child --alloc-field --by --expire --max-groups --fault-event --edge
			--restart-event --last --max-age --time-field --help
			--usage
			--version --quiet --verbose" \
			-- "$cur"))
		return
	fi
	_comp_gxkit_filedir '@(jsonl|json|log|txt|dat|csv|tsv)'
}
complete -F _comp_cmd_leak_classify leak-classify
