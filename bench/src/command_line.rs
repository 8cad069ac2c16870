//! The command line this process was started with, quoted so that it can be pasted in a shell.

/// `std::env::args()` joined with spaces, each argument quoted when the shell would split or
/// expand it.
pub fn current() -> String {
    let args: Vec<String> = std::env::args().collect();
    join(&args)
}

pub fn join(args: &[String]) -> String {
    args.iter().map(|arg| quote(arg)).collect::<Vec<_>>().join(" ")
}

fn quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '=' | ',' | '@' | '+')
        });
    if plain { arg.to_owned() } else { format!("'{}'", arg.replace('\'', r"'\''")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_arguments_are_left_alone_and_others_are_single_quoted() {
        let args = ["regserial-bench", "grpc", "--postgres-url", "postgres://u@h:5432/db", "it's", ""]
            .map(String::from);
        assert_eq!(join(&args), r"regserial-bench grpc --postgres-url postgres://u@h:5432/db 'it'\''s' ''");
    }
}
