"""Benefit schemes (奖励扶助, 特别扶助, 育儿补贴): eligibility from the register, verification, enrolment, payments."""
