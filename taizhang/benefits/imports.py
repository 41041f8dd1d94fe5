def run_enrolments(ctx) -> dict:
    raise NotImplementedError


def run_payments(ctx) -> dict:
    raise NotImplementedError
