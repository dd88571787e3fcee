"""Diversion (导流) detection: contacts, other platforms, links and QR codes in chat messages.

``from kefu.diversion.detector import Detector, Verdict, default_detector``.
"""
