use super::*;

#[test]
fn test_logging_can_be_initialised_from_every_test() {
    init_for_tests();
    init_for_tests();
    tracing::info!(field = 1, "silent unless TEST_LOG is set");
}

#[test]
fn the_log_format_parses_from_its_flag_value() {
    use clap::ValueEnum as _;
    assert_eq!(LogFormat::from_str("json", true), Ok(LogFormat::Json));
    assert_eq!(LogFormat::default(), LogFormat::Text);
}
