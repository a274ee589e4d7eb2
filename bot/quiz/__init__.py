"""Quizzes, reviews, practice exams and progress, on top of the question bank and the store."""
