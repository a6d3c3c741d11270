# bash completion for xredird; the Makefile puts above this the word lists
# `xredird --doc bash` prints from its flag table (_xredird_flags,
# _xredird_value).

# _xredir_values WORDS CUR: what a flag's value completes to (see doc.h).
_xredir_values()
{
	case $1 in
	@FILE) compgen -f -- "$2" ;;
	@DIR) compgen -d -- "$2" ;;
	@IFACE) compgen -W "auto $(ls /sys/class/net 2>/dev/null)" -- "$2" ;;
	@*) ;;
	*) compgen -W "$1" -- "$2" ;;
	esac
}

# shellcheck disable=SC2154 # _xredird_flags: in the generated part
_xredird()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local values

	if [ "$COMP_CWORD" -gt 1 ] && values=$(_xredird_value "$prev"); then
		mapfile -t COMPREPLY < <(_xredir_values "$values" "$cur")
		return
	fi
	mapfile -t COMPREPLY < <(compgen -W "$_xredird_flags" -- "$cur")
}
complete -F _xredird xredird
