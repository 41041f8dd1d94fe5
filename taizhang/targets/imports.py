def run(ctx) -> dict:
    raise NotImplementedError
